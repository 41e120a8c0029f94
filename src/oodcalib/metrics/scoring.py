"""One scan under evaluation: what several metrics share is computed once, on demand.

A :class:`ScanScorer` holds the probabilities and labels of one scan and caches the
pieces that metrics read: the ROI, the top-label and class-wise bin statistics (one pass
over the pixels for both), the ACE paper's 20 marginal bins, the NACL paper's foreground
bins, the per-class Dice and HD95 (in pixels, and in mm when the voxel spacing is given).
A metric is a function of the scorer (see :mod:`~oodcalib.metrics.registry`), so ECE and
SCE never bin twice, nor do ACE, MCE and marginal ECE.

HD95 is the costliest metric (about 50 ms for a 10-slice scan). Methods that keep the
argmax (every temperature method) have the same prediction as UC, so a scorer given a
``memo`` dict looks HD95 up by a hash of the prediction and the labels (and the spacing)
first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np

from oodcalib.metrics.bin_stats import BinStats, as_numpy, top_class
from oodcalib.metrics.binning import accumulate
from oodcalib.metrics.calibration import roi_mask
from oodcalib.metrics.foreground import foreground_bin_stats
from oodcalib.metrics.marginal import MARGINAL_BINS, marginal_bin_stats
from oodcalib.metrics.overlap import dice_per_class
from oodcalib.metrics.surface_distance import hausdorff_distance_95, voxel_spacing

#: Foreground class names, in label order (1 RV, 2 MYO, 3 LV).
FOREGROUND_NAMES = ("rv", "myo", "lv")


class ScanScorer:
    """Probabilities and labels of one cardiac scan, with cached shared statistics.

    Args:
        probs: Probabilities ``(4, Z, H, W)`` (background, RV, MYO, LV), numpy or torch.
        labels: Integer labels ``(Z, H, W)``; the ROI is derived from them.
        n_bins: Number of calibration bins of ECE and SCE.
        roi_size: Side of the ROI dilation square.
        memo: Optional dict shared between scorers: HD95 by hash of prediction and labels.
        spacing: Voxel size ``(slice, row, col)`` of the scan as scored (mm; the prepared
            case's, after resampling and resizing to the network input), or None when
            unknown: then ``hd95_mm`` is NaN. A case's in-plane spacing alone is not
            enough: a 3D distance needs the slice spacing too.

    Example:
        >>> labels = np.zeros((1, 8, 8), np.uint8)
        >>> labels[0, 3:5, 3:5] = 3
        >>> scorer = ScanScorer(np.eye(4)[labels].transpose(3, 0, 1, 2), labels)
        >>> int(scorer.roi.sum()), scorer.top_bins.ece(), scorer.dice.tolist()
        (64, 0.0, [nan, nan, 1.0])
    """

    def __init__(
        self,
        probs: Any,
        labels: Any,
        n_bins: int = 10,
        roi_size: int = 10,
        memo: dict | None = None,
        spacing: Sequence[float] | None = None,
    ):
        self.probs, self.labels = as_numpy(probs), as_numpy(labels)
        if self.probs.ndim != 4 or self.probs.shape[0] != 1 + len(FOREGROUND_NAMES):
            raise ValueError(f"probs must have shape (4, Z, H, W), got {self.probs.shape}")
        # one class-major copy (the runner's probabilities are a (Z, C) view), so every
        # binning pass reads whole chunks across slices
        self.probs = np.ascontiguousarray(self.probs)
        self.labels = np.ascontiguousarray(self.labels)
        self.n_bins, self.roi_size, self.memo = n_bins, roi_size, memo
        self.spacing = (
            None
            if spacing is None
            else tuple(float(s) for s in voxel_spacing(spacing, self.labels.ndim))
        )

    @cached_property
    def roi(self) -> np.ndarray:
        """The foreground dilated by a ``roi_size`` square, slice by slice."""
        return roi_mask(self.labels, self.roi_size)

    @cached_property
    def _bins(self) -> tuple[BinStats, BinStats]:
        top, classwise = accumulate(self.probs, self.labels, self.roi, self.n_bins)
        assert top is not None and classwise is not None  # both asked for
        return top, classwise

    @property
    def top_bins(self) -> BinStats:
        """Top-label bin statistics inside the ROI."""
        return self._bins[0]

    @property
    def classwise_bins(self) -> BinStats:
        """Class-wise bin statistics inside the ROI."""
        return self._bins[1]

    @cached_property
    def dice(self) -> np.ndarray:
        """Whole-scan Dice of each foreground class (NaN: absent from both)."""
        return dice_per_class(self.probs, self.labels, num_classes=self.probs.shape[0])

    def mean_dice(self) -> float:
        """Mean Dice over the foreground classes present (NaN if none)."""
        return float(np.nanmean(self.dice)) if np.isfinite(self.dice).any() else float("nan")

    @cached_property
    def marginal_bins(self) -> BinStats:
        """Class-wise statistics over all voxels in the ACE paper's 20 bins."""
        return marginal_bin_stats(self.probs, self.labels, MARGINAL_BINS)

    @cached_property
    def foreground_bins(self) -> tuple[BinStats, BinStats]:
        """Top-label and class-wise statistics of the foreground voxels (NACL, 15 bins)."""
        return foreground_bin_stats(self.probs, self.labels)

    @cached_property
    def prediction(self) -> np.ndarray:
        """Argmax class of every voxel."""
        return top_class(self.probs)[1].astype(np.uint8)

    @cached_property
    def _digest(self) -> str:
        """Hash of the prediction and the labels, the memo's key for HD95."""
        digest = hashlib.blake2b(self.prediction.tobytes(), digest_size=16)
        digest.update(self.labels.tobytes())
        return digest.hexdigest()

    def _hd95(self, spacing: tuple[float, ...] | None) -> float:
        if self.memo is None:
            return hausdorff_distance_95(self.prediction, self.labels, spacing)
        key = ("hd95", spacing, self.labels.shape, self._digest)
        if key not in self.memo:
            self.memo[key] = hausdorff_distance_95(self.prediction, self.labels, spacing)
        return self.memo[key]

    def hd95(self) -> float:
        """Mean HD95 over the foreground classes in voxels, as the NACL paper (registry)."""
        return self._hd95(None)

    def hd95_mm(self) -> float:
        """The same HD95 in mm with the scan's voxel spacing; NaN when it is unknown."""
        return float("nan") if self.spacing is None else self._hd95(self.spacing)
