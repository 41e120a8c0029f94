"""Example plugin: a new metric, the pixel accuracy inside the calibration ROI.

It reads the top-label bin statistics the ECE already computed for the scan (their
correct-pixel sums over the pixel count), so it costs nothing extra. Use it with::

    oodcalib run --plugin examples/plugins/roi_accuracy.py
    oodcalib leaderboard RUN_DIR --metric ece roi_accuracy
"""

from __future__ import annotations

from oodcalib.metrics import METRICS, Metric, ScanScorer


def roi_accuracy(scan: ScanScorer) -> float:
    """Fraction of ROI pixels whose argmax equals the label."""
    bins = scan.top_bins
    return float(bins.acc_sum.sum() / bins.num_pixels)


METRICS["roi_accuracy"] = Metric(
    "roi_accuracy", "ROI acc.", higher_is_better=True, compute=roi_accuracy
)
