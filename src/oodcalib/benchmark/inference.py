"""Running a frozen segmentation network over a stack of slices, and counting its passes."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from oodcalib.benchmark.unet import UNet


@torch.no_grad()
def predict_logits(model: torch.nn.Module, image: np.ndarray, batch_size: int = 16) -> np.ndarray:
    """Slice-wise logits of a ``(Z, H, W)`` normalised stack.

    Args:
        model: A network mapping ``(N, 1, H, W)`` to ``(N, C, H, W)``.
        image: The normalised stack.
        batch_size: Slices per forward pass.

    Returns:
        ``(Z, C, H, W)`` float32 logits.

    Example:
        >>> predict_logits(UNet(width=2, depth=2).eval(), np.zeros((3, 8, 8), np.float32)).shape
        (3, 4, 8, 8)
    """
    was_training = model.training
    model.eval()
    x = torch.as_tensor(np.ascontiguousarray(image), dtype=torch.float32).unsqueeze(1)
    out = [model(x[i : i + batch_size]) for i in range(0, x.shape[0], batch_size)]
    model.train(was_training)
    return torch.cat(out).numpy()


def load_model(path, map_location: str = "cpu") -> UNet:
    """Rebuild a :class:`UNet` from a checkpoint written by the training stage."""
    state = torch.load(path, map_location=map_location, weights_only=False)
    model = UNet(**state["architecture"])
    model.load_state_dict(state["model"])
    return model.eval()


class ForwardCounter:
    """Count the slices a segmentation network processes, per named stage.

    A forward hook adds the batch size of every call to the current stage, so the count
    covers every caller (logits, cached augmented passes, calibrator fitting) without
    their cooperation.

    Example:
        >>> net = UNet(width=2, depth=2)
        >>> counter = ForwardCounter(net)
        >>> with counter.stage("logits"):
        ...     _ = predict_logits(net, np.zeros((3, 8, 8), np.float32))
        >>> dict(counter.counts)
        {'logits': 3}
    """

    def __init__(self, model: torch.nn.Module):
        self.counts: Counter[str] = Counter()
        self._stage = "other"
        self._handle = model.register_forward_hook(self._hook)

    def _hook(self, module: torch.nn.Module, args: tuple, output: torch.Tensor) -> None:
        self.counts[self._stage] += int(args[0].shape[0])

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Attribute the passes made inside the ``with`` block to ``name``."""
        previous, self._stage = self._stage, name
        try:
            yield
        finally:
            self._stage = previous

    def save(self, path: Path) -> dict[str, int]:
        """Add the counts to those already in ``path`` (JSON), reset, and return the total."""
        path = Path(path)
        total = Counter(json.loads(path.read_text())) if path.exists() else Counter()
        total.update(self.counts)
        self.counts.clear()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(dict(sorted(total.items())), indent=2) + "\n")
        os.replace(tmp, path)
        return dict(total)
