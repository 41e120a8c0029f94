"""Per-scan metrics: binning, calibration errors, proper scores, overlap, distances, registry.

Calibration: ECE and SCE in the ROI; the ACE paper's marginal ACE / MCE / ECE (per scan,
and micro-averaged over scans with :class:`MicroBins`); the NACL paper's foreground ECE
and CECE. Proper scores: Brier, stratified Brier, NLL. Overlap and distance: Dice, HD95.

The public functions take ``(C, ...)`` probabilities and ``(...)`` integer labels, numpy
or torch, and return fractions. :data:`METRICS` lists every metric the benchmark scores.
This package imports neither torch nor any other part of the benchmark.
"""

from oodcalib.metrics.bin_stats import BinStats, as_numpy, bin_index
from oodcalib.metrics.binning import (
    accumulate,
    classwise_bin_stats,
    top_label_bin_stats,
)
from oodcalib.metrics.calibration import (
    expected_calibration_error,
    roi_mask,
    static_calibration_error,
)
from oodcalib.metrics.foreground import (
    classwise_calibration_error,
    foreground_bin_stats,
    foreground_calibration_error,
)
from oodcalib.metrics.marginal import (
    ace_from_bins,
    average_calibration_error,
    marginal_bin_stats,
    marginal_calibration_error,
    marginal_ece_from_bins,
    maximum_calibration_error,
    mce_from_bins,
)
from oodcalib.metrics.marginal_micro import MicroBins
from oodcalib.metrics.overlap import dice_per_class, dice_score
from oodcalib.metrics.proper_scores import (
    brier_score,
    negative_log_likelihood,
    stratified_brier_score,
)
from oodcalib.metrics.registry import (
    METRICS,
    Metric,
    get_metric,
    headline_metrics,
    in_percent,
    scan_metrics,
    score,
)
from oodcalib.metrics.scoring import FOREGROUND_NAMES, ScanScorer
from oodcalib.metrics.surface_distance import (
    hausdorff_distance_95,
    hausdorff_distance_95_per_class,
)

__all__ = [
    "FOREGROUND_NAMES",
    "METRICS",
    "BinStats",
    "Metric",
    "MicroBins",
    "ScanScorer",
    "accumulate",
    "ace_from_bins",
    "as_numpy",
    "average_calibration_error",
    "bin_index",
    "brier_score",
    "classwise_bin_stats",
    "classwise_calibration_error",
    "dice_per_class",
    "dice_score",
    "expected_calibration_error",
    "foreground_bin_stats",
    "foreground_calibration_error",
    "get_metric",
    "hausdorff_distance_95",
    "hausdorff_distance_95_per_class",
    "headline_metrics",
    "in_percent",
    "score",
    "marginal_bin_stats",
    "marginal_calibration_error",
    "marginal_ece_from_bins",
    "maximum_calibration_error",
    "mce_from_bins",
    "negative_log_likelihood",
    "roi_mask",
    "scan_metrics",
    "static_calibration_error",
    "stratified_brier_score",
    "top_label_bin_stats",
]
