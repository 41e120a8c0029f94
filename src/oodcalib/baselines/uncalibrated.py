"""UC: the uncalibrated softmax of the segmentation network (the reference point)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from oodcalib.baselines.base import Calibrator, ScanLogits, softmax


class Uncalibrated(Calibrator):
    """Identity calibrator: ``softmax(z)``.

    Example:
        >>> scan = ScanLogits("c", np.zeros((1, 2, 2)), np.zeros((1, 4, 2, 2)))
        >>> float(Uncalibrated().fit([], None).predict_proba(scan, None).sum(axis=1).max())
        1.0
    """

    name = "uc"
    display_name = "UC"
    deterministic = True

    def fit(self, scans: Sequence[ScanLogits], model: torch.nn.Module | None) -> Uncalibrated:
        """Nothing to learn."""
        self.fitted_ = True
        return self

    def predict_proba(self, scan: ScanLogits, model: torch.nn.Module | None) -> np.ndarray:
        """Softmax of the stored logits."""
        return softmax(scan.logits)
