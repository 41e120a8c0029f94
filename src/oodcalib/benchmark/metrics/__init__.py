"""Per-scan metrics: binning, calibration errors (ROI, ECE, SCE), overlap (Dice), registry.

The public functions take ``(C, ...)`` probabilities and ``(...)`` integer labels, numpy
or torch, and return fractions. :data:`METRICS` lists every metric the benchmark scores.
This package imports neither torch nor any other part of the benchmark.
"""

from oodcalib.benchmark.metrics.bin_stats import BinStats, as_numpy, bin_index
from oodcalib.benchmark.metrics.binning import (
    accumulate,
    classwise_bin_stats,
    top_label_bin_stats,
)
from oodcalib.benchmark.metrics.calibration import (
    expected_calibration_error,
    roi_mask,
    static_calibration_error,
)
from oodcalib.benchmark.metrics.overlap import dice_per_class, dice_score
from oodcalib.benchmark.metrics.registry import (
    METRICS,
    Metric,
    get_metric,
    headline_metrics,
    scan_metrics,
)
from oodcalib.benchmark.metrics.scoring import FOREGROUND_NAMES, ScanScorer

__all__ = [
    "FOREGROUND_NAMES",
    "METRICS",
    "BinStats",
    "Metric",
    "ScanScorer",
    "accumulate",
    "as_numpy",
    "bin_index",
    "classwise_bin_stats",
    "dice_per_class",
    "dice_score",
    "expected_calibration_error",
    "get_metric",
    "headline_metrics",
    "roi_mask",
    "scan_metrics",
    "static_calibration_error",
    "top_label_bin_stats",
]
