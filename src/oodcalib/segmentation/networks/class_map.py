"""A foreign network's output channels mapped to the package's four classes.

Channels are reordered to background, RV, MYO, LV; channels that share a class are
merged by ``logsumexp`` of their logits, whose softmax is the sum of their
probabilities. The output shape is checked on every call, so a network whose output
does not fit its declaration stops with the file named.
"""

from __future__ import annotations

import torch

from oodcalib.datasets.case import NUM_CLASSES
from oodcalib.errors import DataError


class ClassMap(torch.nn.Module):
    """``net`` with its ``(N, K, H, W)`` logits mapped to ``(N, 4, H, W)``.

    Args:
        net: Maps ``(N, 1, H, W)`` slices to ``(N, K, H, W)`` logits.
        classes: Package class code (0-3) of each of the K channels.
        source: The network's file, named in errors.

    Example:
        >>> net = ClassMap(torch.nn.Conv2d(1, 5, 1), (0, 3, 2, 1, 0), "net.pt")
        >>> tuple(net(torch.zeros(2, 1, 8, 8)).shape)
        (2, 4, 8, 8)
    """

    def __init__(self, net: torch.nn.Module, classes: tuple[int, ...], source: str):
        super().__init__()
        self.net, self.classes, self.source = net, tuple(classes), source
        self.identity = self.classes == tuple(range(NUM_CLASSES))
        self.groups = [[k for k, c in enumerate(self.classes) if c == code] for code in range(4)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of the four classes."""
        try:
            y = self.net(x)
        except RuntimeError as error:
            first = (str(error).strip().splitlines() or [""])[0]
            raise DataError(
                self.source, f"the network fails on input {tuple(x.shape)} ({first})"
            ) from None
        expected = (x.shape[0], len(self.classes), *x.shape[2:])
        if not isinstance(y, torch.Tensor) or tuple(y.shape) != expected:
            shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
            raise DataError(
                self.source,
                f"the network maps input {tuple(x.shape)} to {shape}; expected logits "
                f"{expected} (N, K, H, W), K = {len(self.classes)} declared classes",
            )
        if self.identity:
            return y
        return torch.stack([torch.logsumexp(y[:, g], dim=1) for g in self.groups], dim=1)
