"""Networks that output per-pixel temperatures: LTS's tree and the paper's calibration net.

Both end in :func:`positive_temperature`, ``T = relu(x + 1) + 1e-8`` (plus an offset),
one map per pixel shared by all classes, so dividing the logits by it never changes the
argmax. Their last layers start at zero, so an untrained net gives ``T = 1 + offset``.
"""

from __future__ import annotations

import torch
from torch import nn

#: Largest temperature: beyond it ``z / T`` rounds distinct logits into float32 ties.
MAX_TEMPERATURE = 100.0


def positive_temperature(x: torch.Tensor, offset: float = 0.0) -> torch.Tensor:
    """``min(relu(x + 1) + 1e-8 + offset, MAX_TEMPERATURE)``, always > 0.

    Example:
        >>> positive_temperature(torch.tensor([-5.0, 0.0, 1.0])).tolist()
        [9.99999993922529e-09, 1.0, 2.0]
    """
    return (torch.relu(x + 1) + 1e-8 + offset).clamp(max=MAX_TEMPERATURE)


def dilated_conv(in_channels: int, out_channels: int, zero: bool = False) -> nn.Conv2d:
    """5x5 convolution with dilation 2 that keeps the size (optionally zero-initialised)."""
    conv = nn.Conv2d(in_channels, out_channels, 5, padding=4, dilation=2)
    if zero:
        assert conv.bias is not None  # built with bias=True
        nn.init.zeros_(conv.weight)
        nn.init.zeros_(conv.bias)
    return conv


def features_key(name: str) -> str:
    """Key under which :class:`CalibrationNet` takes the branch features of input ``name``."""
    return f"{name}:features"


class LTSNet(nn.Module):
    """Local temperature scaling net (after Ding et al., ICCV 2021).

    A trunk of dilated 5x5 convs reads the logits; two leaves give temperature maps that
    a sigmoid gate mixes; an image branch adds a further term.

    Example:
        >>> net = LTSNet(num_classes=4, width=4)
        >>> t = net(torch.randn(2, 4, 16, 16), torch.rand(2, 1, 16, 16))
        >>> t.shape, bool((t == 1).all())
        (torch.Size([2, 1, 16, 16]), True)
    """

    def __init__(self, num_classes: int = 4, width: int = 16):
        super().__init__()
        self.trunk = nn.Sequential(
            dilated_conv(num_classes, width), nn.ReLU(), dilated_conv(width, width), nn.ReLU()
        )
        self.leaf_a = dilated_conv(width, 1, zero=True)
        self.leaf_b = dilated_conv(width, 1, zero=True)
        self.gate = dilated_conv(width, 1)
        self.image_branch = nn.Sequential(
            dilated_conv(1, width), nn.ReLU(), dilated_conv(width, 1, zero=True)
        )

    def forward(self, logits: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        """``(N, 1, H, W)`` temperatures from logits ``(N, C, H, W)`` and image ``(N, 1, H, W)``."""
        h = self.trunk(logits)
        gate = torch.sigmoid(self.gate(h))
        t = gate * self.leaf_a(h) + (1 - gate) * self.leaf_b(h) + self.image_branch(image)
        return positive_temperature(t)


class ResBlock(nn.Module):
    """``x + conv(relu(conv(x)))`` followed by ReLU (3x3 convolutions)."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual update."""
        return torch.relu(x + self.body(x))


class SqueezeExcitation(nn.Module):
    """Channel attention: scale each channel by a gate computed from its global mean."""

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(channels, hidden, 1),
            nn.ReLU(),
            nn.Conv2d(hidden, channels, 1),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Re-weighted channels."""
        return x * self.gate(x)


class CalibrationNet(nn.Module):
    """The paper's calibration net ``g``: input branches, channel-attention fusion, temperature.

    Each branch: dilated 5x5 conv to ``width`` channels and 2 ResNet blocks. Fusion:
    concatenation, squeeze-and-excitation, 1x1 conv to ``4 * width``, 2 ResNet blocks,
    5x5 conv to one channel. Output ``T = relu(x + 1) + 1e-8 + 0.1``.

    Args:
        branches: Input name -> channels, e.g. ``{"image": 1, "logits": 4, ...}``.
        width: Channels per branch (16 in the paper).

    Example:
        >>> net = CalibrationNet({"image": 1, "logits": 4}, width=4)
        >>> net({"image": torch.rand(1, 1, 8, 8), "logits": torch.randn(1, 4, 8, 8)}).shape
        torch.Size([1, 1, 8, 8])
    """

    offset = 0.1

    def __init__(self, branches: dict[str, int], width: int = 16):
        super().__init__()
        self.names = list(branches)
        self.branches = nn.ModuleDict(
            {
                name: nn.Sequential(
                    dilated_conv(channels, width), nn.ReLU(), ResBlock(width), ResBlock(width)
                )
                for name, channels in branches.items()
            }
        )
        fused = width * len(branches)
        self.fusion = nn.Sequential(
            SqueezeExcitation(fused),
            nn.Conv2d(fused, 4 * width, 1),
            nn.ReLU(),
            ResBlock(4 * width),
            ResBlock(4 * width),
        )
        self.head = nn.Conv2d(4 * width, 1, 5, padding=2)
        assert self.head.bias is not None  # built with bias=True
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def encode(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Branch features of some inputs, keyed ``features_key(name)``.

        ``forward`` takes them in place of the raw inputs, so features that do not change
        between calls (the image, logits and residual of one scan under several ``N_A``)
        are computed once.
        """
        return {features_key(name): self.branches[name](x) for name, x in inputs.items()}

    def forward(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """``(N, 1, H, W)`` temperatures from the named ``(N, c, H, W)`` inputs.

        An input may be given as its branch features instead (see :meth:`encode`).
        """
        h = torch.cat(
            [
                inputs[features_key(name)]
                if features_key(name) in inputs
                else self.branches[name](inputs[name])
                for name in self.names
            ],
            dim=1,
        )
        return positive_temperature(self.head(self.fusion(h)), self.offset)
