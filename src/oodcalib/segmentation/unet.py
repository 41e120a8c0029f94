"""A plain 2D U-Net of configurable width and depth."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def instance_norm(channels: int) -> nn.GroupNorm:
    """Instance normalisation with a learned affine map, as one group per channel.

    ``GroupNorm(C, C)`` computes exactly ``InstanceNorm2d(C, affine=True)`` (statistics per
    sample and channel, no running averages) with the same ``weight`` and ``bias``
    parameters, so checkpoints of either load into the other. On CPU it runs about 1.5x
    faster: PyTorch's instance norm reshapes the batch into channels and back.

    Example:
        >>> x = torch.randn(2, 3, 8, 8)
        >>> reference = nn.InstanceNorm2d(3, affine=True)
        >>> bool(torch.allclose(instance_norm(3)(x), reference(x), atol=1e-5))
        True
    """
    return nn.GroupNorm(channels, channels)


class ConvBlock(nn.Sequential):
    """Two 3x3 conv -> instance norm -> LeakyReLU layers."""

    def __init__(self, in_channels: int, out_channels: int, dropout: float = 0.0):
        layers: list[nn.Module] = []
        for i in range(2):
            layers += [
                nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1),
                instance_norm(out_channels),
                nn.LeakyReLU(0.01, inplace=True),
            ]
        if dropout > 0:
            layers.append(nn.Dropout2d(dropout))
        super().__init__(*layers)


class UNet(nn.Module):
    """2D U-Net returning per-class logits.

    Args:
        in_channels: Input channels (1 for MRI).
        num_classes: Output classes (4: background, RV, MYO, LV).
        width: Channels at the first level; doubled at each lower level.
        depth: Number of resolution levels (``depth - 1`` poolings). Inputs must have
            sides divisible by ``2 ** (depth - 1)``.
        dropout: Channel dropout after each encoder block.

    Example:
        >>> net = UNet(1, 4, width=4, depth=3)
        >>> net(torch.zeros(2, 1, 16, 16)).shape
        torch.Size([2, 4, 16, 16])
    """

    #: The compiled :meth:`body`, set (in the instance dict) by ``compile_unet`` only.
    compiled_body: Callable[[torch.Tensor], torch.Tensor]

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 4,
        width: int = 32,
        depth: int = 5,
        dropout: float = 0.0,
    ):
        super().__init__()
        if depth < 2:
            raise ValueError(f"U-Net depth must be >= 2, got {depth}")
        channels = [width * 2**i for i in range(depth)]
        self.depth = depth
        self.encoders = nn.ModuleList()
        previous = in_channels
        for ch in channels:
            self.encoders.append(ConvBlock(previous, ch, dropout))
            previous = ch
        self.ups = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for ch in reversed(channels[:-1]):
            self.ups.append(nn.ConvTranspose2d(ch * 2, ch, 2, stride=2))
            self.decoders.append(ConvBlock(ch * 2, ch))
        self.head = nn.Conv2d(channels[0], num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``(N, C_in, H, W)`` images to ``(N, num_classes, H, W)`` logits.

        Runs :meth:`body`, compiled if
        :func:`~oodcalib.segmentation.compilation.compile_unet` was applied, in the
        ``channels_last`` layout and under autocast (float32 logits out) if
        :meth:`~oodcalib.segmentation.acceleration.Placement.place` set them (CUDA only).
        """
        factor = 2 ** (self.depth - 1)
        if x.shape[-1] % factor or x.shape[-2] % factor:
            raise ValueError(
                f"input size {tuple(x.shape[-2:])} must be divisible by {factor} "
                f"for a U-Net of depth {self.depth}"
            )
        body = self.__dict__.get("compiled_body", self.body)
        dtype = self.__dict__.get("autocast_dtype")
        if self.__dict__.get("channels_last"):
            x = x.contiguous(memory_format=torch.channels_last)
        if dtype is None:
            return body(x)
        with torch.autocast(x.device.type, dtype=dtype):
            return body(x).float()

    def body(self, x: torch.Tensor) -> torch.Tensor:
        """The layers: encoder, decoder with skip connections, 1x1 head."""
        skips = []
        for i, encoder in enumerate(self.encoders):
            x = encoder(x if i == 0 else nn.functional.max_pool2d(x, 2))
            skips.append(x)
        x = skips.pop()
        for up, decoder in zip(self.ups, self.decoders, strict=True):
            x = decoder(torch.cat([up(x), skips.pop()], dim=1))
        return self.head(x)

    def __getstate__(self) -> dict:
        """Pickle without the compiled body (it is rebuilt by ``compile_unet``)."""
        state = self.__dict__.copy()
        state.pop("compiled_body", None)
        return state
