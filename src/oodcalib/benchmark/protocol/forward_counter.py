"""Counting the slices a segmentation network processes, per named stage."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch

from oodcalib.atomic import add_totals
from oodcalib.benchmark.protocol.stage_timer import StageTimer


class ForwardCounter:
    """Count the slices a segmentation network processes, per named stage.

    A forward hook adds the batch size of every call to the current stage, so the count
    covers every caller (logits, cached augmented passes, calibrator fitting) without
    their cooperation.

    Example:
        >>> import numpy as np
        >>> from oodcalib.segmentation.inference import predict_logits
        >>> from oodcalib.segmentation.unet import UNet
        >>> net = UNet(width=2, depth=2)
        >>> counter = ForwardCounter(net)
        >>> with counter.stage("logits"):
        ...     _ = predict_logits(net, np.zeros((3, 8, 8), np.float32))
        >>> dict(counter.counts)
        {'logits': 3}
    """

    def __init__(self, model: torch.nn.Module, timer: StageTimer | None = None):
        self.counts: Counter[str] = Counter()
        self.timer = timer
        self._stage = "other"
        self._handle = model.register_forward_hook(self._hook)

    def _hook(self, module: torch.nn.Module, args: tuple, output: torch.Tensor) -> None:
        self.counts[self._stage] += int(args[0].shape[0])

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Attribute the passes (and, with a timer, the time) of the block to ``name``."""
        previous, self._stage = self._stage, name
        try:
            with self.timer.stage(name) if self.timer else nullcontext():
                yield
        finally:
            self._stage = previous

    def save(self, path: Path) -> dict[str, int]:
        """Add the counts to those already in ``path`` (JSON), reset, and return the total."""
        total = add_totals(path, self.counts)
        self.counts.clear()
        return total
