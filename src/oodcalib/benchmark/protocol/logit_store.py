"""Segmentation logits per (domain, case) of one fold, computed once and cached on disk."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch

from oodcalib.atomic import atomic_write, read_cache
from oodcalib.baselines import ScanLogits
from oodcalib.baselines.common.augmented_passes import AugmentedPasses
from oodcalib.benchmark.protocol.forward_counter import ForwardCounter
from oodcalib.datasets import Case
from oodcalib.segmentation.inference import predict_logits


class LogitStore:
    """Logits of one fold's segmentation net, as float16 ``<root>/<domain>/<case>.npy``.

    The scans it returns carry ``passes``, so every calibrator reuses the same
    (cached) augmented passes.

    Args:
        root: Cache directory (``fold{k}/logits``).
        model: The fold's frozen segmentation net.
        passes: Source of augmented passes attached to every scan.
        counter: Counts new forward passes under the stage ``logits``.
        saved: Where the logits come from instead of the model: ``(domain, case) ->
            (Z, C, H, W)`` (a foreign network's saved probability maps), cached as float32.
    """

    def __init__(
        self,
        root: Path,
        model: torch.nn.Module,
        passes: AugmentedPasses | None = None,
        counter: ForwardCounter | None = None,
        saved: Callable[[str, Case], np.ndarray] | None = None,
    ):
        self.root, self.model, self.passes, self.counter = Path(root), model, passes, counter
        self.saved = saved

    def get(self, domain: str, case: Case) -> ScanLogits:
        """Logits of ``case`` in ``domain``, computed on first use."""
        path = self.root / domain / f"{case.case_id}.npy"
        logits = read_cache(path, self._reader(case), "logits")
        if logits is not None:
            logits = logits.astype(np.float32)
        elif self.saved is not None:
            logits = self.saved(domain, case).astype(np.float32)
            atomic_write(path, lambda f: np.save(f, logits))
        else:
            with self.counter.stage("logits") if self.counter else nullcontext():
                logits = predict_logits(self.model, case.image).astype(np.float16)
            atomic_write(path, lambda f: np.save(f, logits))
            logits = logits.astype(np.float32)
        return ScanLogits(case.case_id, case.image, logits, case.label, domain, self.passes)

    @staticmethod
    def _reader(case: Case):
        """Load logits and check them against the scan: ``(Z, C, H, W)``, finite."""

        def read(path: Path) -> np.ndarray:
            logits = np.load(path, allow_pickle=False)
            z, h, w = np.shape(case.image)
            if logits.ndim != 4 or (logits.shape[0], *logits.shape[2:]) != (z, h, w):
                raise ValueError(f"shape {logits.shape} does not fit the scan {(z, h, w)}")
            if not np.isfinite(logits).all():
                raise ValueError("non-finite values")
            return logits

        return read
