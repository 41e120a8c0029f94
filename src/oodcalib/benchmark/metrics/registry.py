"""The metric registry: every per-scan metric, its display name and direction.

``METRICS`` is a plain dict from the name used in ``results.csv`` to a :class:`Metric`.
The runner scores every registered metric on every test scan, and the summary,
leaderboard, ablation tables and CLI read names, display names and directions from here.
Add a metric by adding an entry (from a plugin file, see the README)::

    METRICS["brier"] = Metric("brier", "Brier", higher_is_better=False,
                              compute=lambda scan: my_brier(scan.probs, scan.labels))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from oodcalib.benchmark.metrics.scoring import FOREGROUND_NAMES, ScanScorer
from oodcalib.errors import lookup


@dataclass(frozen=True)
class Metric:
    """One per-scan metric.

    Attributes:
        name: Key in ``results.csv`` (``metric`` column).
        display_name: Label in tables (``"ECE"``, ``"Dice RV"``).
        higher_is_better: Direction (Dice: True; calibration errors: False).
        compute: ``compute(scan: ScanScorer) -> float``, a fraction.
        aggregate: How per-scan values combine over scans in tables (a pandas reduction
            name: ``"mean"``, ``"median"``); NaN values are skipped.
        headline: Shown in the default summary, leaderboard and ablation tables.
    """

    name: str
    display_name: str
    higher_is_better: bool
    compute: Callable[[ScanScorer], float]
    aggregate: str = "mean"
    headline: bool = False


def _dice_of(index: int) -> Callable[[ScanScorer], float]:
    return lambda scan: float(scan.dice[index])


METRICS: dict[str, Metric] = {
    "ece": Metric("ece", "ECE", False, lambda scan: scan.top_bins.ece(), headline=True),
    "sce": Metric("sce", "SCE", False, lambda scan: scan.classwise_bins.sce(), headline=True),
    "dice": Metric("dice", "Dice", True, ScanScorer.mean_dice, headline=True),
    **{f"dice_{n}": Metric(f"dice_{n}", f"Dice {n.upper()}", True, _dice_of(i))
       for i, n in enumerate(FOREGROUND_NAMES)},
}


def get_metric(name: str) -> Metric:
    """The registered metric ``name`` (an unknown name lists the valid ones)."""
    return lookup(METRICS, name, "metric")


def headline_metrics() -> list[str]:
    """Names of the metrics shown in default tables, in registry order."""
    return [name for name, metric in METRICS.items() if metric.headline]


def scan_metrics(probs: Any, labels: Any, n_bins: int = 10, roi_size: int = 10,
                 metrics: Iterable[str] | None = None) -> dict[str, float]:
    """Every registered metric (or those named) of one cardiac scan.

    Args:
        probs: Probabilities ``(4, Z, H, W)`` (background, RV, MYO, LV).
        labels: Integer labels ``(Z, H, W)``; the ROI is derived from them.
        n_bins: Number of calibration bins.
        roi_size: Side of the ROI dilation square.
        metrics: Names to compute (default: all of :data:`METRICS`, in order).

    Returns:
        ``{name: value}`` as fractions.

    Example:
        >>> import numpy as np
        >>> labels = np.zeros((1, 16, 16), np.uint8)
        >>> labels[0, 6:9, 6:9] = 3
        >>> probs = np.eye(4)[labels].transpose(3, 0, 1, 2)  # perfect one-hot
        >>> {k: round(v, 3) for k, v in scan_metrics(probs, labels).items()}
        {'ece': 0.0, 'sce': 0.0, 'dice': 1.0, 'dice_rv': nan, 'dice_myo': nan, 'dice_lv': 1.0}
    """
    scorer = ScanScorer(probs, labels, n_bins, roi_size)
    names = list(METRICS) if metrics is None else list(metrics)
    return {name: float(get_metric(name).compute(scorer)) for name in names}
