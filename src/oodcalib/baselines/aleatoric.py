"""Alea.: the mean softmax over photometric test-time augmentations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from oodcalib.baselines.base import Calibrator, ScanLogits
from oodcalib.baselines.common.augmented_passes import susceptibility
from oodcalib.config.ranges import Count


class Aleatoric(Calibrator):
    """Average ``softmax`` over ``num_aug`` photometrically augmented passes of the image.

    The augmentations are the training ones (brightness, contrast, gamma, noise), never
    the test corruptions. Nothing is learned: ``fit`` only records how many calibration
    scans it saw. In the benchmark the passes are cached per scan and shared with the
    Proposed calibrator, so repeats of this method give identical results.

    Args:
        num_aug: Number of augmented passes ``N_A``.
        random_state: Unused (no randomness in fitting); kept for the common interface.

    Attributes:
        n_calibration_scans_: Scans seen by ``fit``.
    """

    name = "alea"
    display_name = "Alea."
    test_time_passes = True
    deterministic = True
    parameter_ranges: ClassVar[dict[str, Any]] = {"num_aug": Count}

    def __init__(self, num_aug: int = 180, random_state: int = 0):
        super().__init__(random_state)
        self.num_aug = num_aug

    def fit(self, scans: Sequence[ScanLogits], model: torch.nn.Module | None) -> Aleatoric:
        """Nothing to learn."""
        self.n_calibration_scans_ = len(scans)
        return self

    def predict_proba(self, scan: ScanLogits, model: torch.nn.Module) -> np.ndarray:
        """Mean softmax over the augmented passes."""
        self._check_fitted("n_calibration_scans_")
        mean, _ = susceptibility(scan, model, self.num_aug)
        return mean
