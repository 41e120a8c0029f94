"""The metric registry: every per-scan metric, its display name and direction.

``METRICS`` is a plain dict from the name used in ``results.csv`` to a :class:`Metric`.
The runner scores every registered metric on every test scan, and the summary,
leaderboard, ablation tables and CLI read names, display names and directions from here.
Add a metric by adding an entry (from a plugin file, see the README)::

    METRICS["brier"] = Metric("brier", "Brier", higher_is_better=False,
                              compute=lambda scan: my_brier(scan.probs, scan.labels))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from oodcalib.errors import lookup
from oodcalib.metrics.foreground import foreground_error
from oodcalib.metrics.marginal import (
    ace_from_bins,
    marginal_ece_from_bins,
    mce_from_bins,
)
from oodcalib.metrics.proper_scores import (
    brier_score,
    negative_log_likelihood,
    stratified_brier_score,
)
from oodcalib.metrics.scoring import FOREGROUND_NAMES, ScanScorer
from oodcalib.plugins import declare_registry


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
        percent: Shown in percent in tables (fractions); False for values with a unit of
            their own (NLL in nats, HD95 in pixels or mm), shown as they are.
    """

    name: str
    display_name: str
    higher_is_better: bool
    compute: Callable[[ScanScorer], float]
    aggregate: str = "mean"
    headline: bool = False
    percent: bool = True


def _dice_of(index: int) -> Callable[[ScanScorer], float]:
    return lambda scan: float(scan.dice[index])


METRICS: dict[str, Metric] = {
    "ece": Metric("ece", "ECE", False, lambda scan: scan.top_bins.ece(), headline=True),
    "sce": Metric("sce", "SCE", False, lambda scan: scan.classwise_bins.sce(), headline=True),
    "dice": Metric("dice", "Dice", True, ScanScorer.mean_dice, headline=True),
    **{
        f"dice_{n}": Metric(f"dice_{n}", f"Dice {n.upper()}", True, _dice_of(i))
        for i, n in enumerate(FOREGROUND_NAMES)
    },
    # the ACE paper: 20 bins over every voxel, foreground classes
    "ace": Metric("ace", "ACE", False, lambda scan: ace_from_bins(scan.marginal_bins)),
    "mce": Metric("mce", "MCE", False, lambda scan: mce_from_bins(scan.marginal_bins)),
    "marginal_ece": Metric(
        "marginal_ece",
        "ECE (marginal)",
        False,
        lambda scan: marginal_ece_from_bins(scan.marginal_bins),
    ),
    # the NACL paper: 15 bins over the ground-truth foreground
    "fg_ece": Metric(
        "fg_ece", "ECE (fg)", False, lambda scan: foreground_error(scan.foreground_bins[0])
    ),
    "cece": Metric("cece", "CECE", False, lambda scan: foreground_error(scan.foreground_bins[1])),
    # the MEEP paper, and NLL
    "brier": Metric("brier", "Brier", False, lambda scan: brier_score(scan.probs, scan.labels)),
    "brier_fg": Metric(
        "brier_fg",
        "Brier (fg)",
        False,
        lambda scan: stratified_brier_score(scan.probs, scan.labels),
    ),
    "nll": Metric(
        "nll",
        "NLL",
        False,
        lambda scan: negative_log_likelihood(scan.probs, scan.labels),
        percent=False,
    ),
    # the NACL paper: medpy's hd95 per foreground class and volume, in voxels (its unit),
    # and the same in mm where the scorer knows the voxel spacing (NaN where it does not)
    "hd95": Metric("hd95", "HD95 (px)", False, ScanScorer.hd95, percent=False),
    "hd95_mm": Metric("hd95_mm", "HD95 (mm)", False, ScanScorer.hd95_mm, percent=False),
}
declare_registry("METRICS", METRICS)  # a plugin replaces one by OVERRIDE


def get_metric(name: str) -> Metric:
    """The registered metric ``name`` (an unknown name lists the valid ones)."""
    return lookup(METRICS, name, "metric")


def in_percent(metric: str) -> bool:
    """Whether tables show ``metric`` in percent (unregistered names: yes)."""
    return METRICS[metric].percent if metric in METRICS else True


def headline_metrics() -> list[str]:
    """Names of the metrics shown in default tables, in registry order."""
    return [name for name, metric in METRICS.items() if metric.headline]


def scan_metrics(
    probs: Any,
    labels: Any,
    n_bins: int = 10,
    roi_size: int = 10,
    metrics: Iterable[str] | None = None,
    spacing: Sequence[float] | None = None,
) -> dict[str, float]:
    """Every registered metric (or those named) of one cardiac scan.

    Args:
        probs: Probabilities ``(4, Z, H, W)`` (background, RV, MYO, LV).
        labels: Integer labels ``(Z, H, W)``; the ROI is derived from them.
        n_bins: Number of calibration bins.
        roi_size: Side of the ROI dilation square.
        metrics: Names to compute (default: all of :data:`METRICS`, in order).
        spacing: Voxel size ``(slice, row, col)`` in mm, for ``hd95_mm`` (None: NaN).

    Returns:
        ``{name: value}`` as fractions.

    Example:
        >>> import numpy as np
        >>> labels = np.zeros((1, 16, 16), np.uint8)
        >>> labels[0, 6:9, 6:9] = 3
        >>> probs = np.eye(4)[labels].transpose(3, 0, 1, 2)  # perfect one-hot
        >>> scores = scan_metrics(probs, labels)
        >>> {k: round(scores[k], 3) for k in ("ece", "sce", "dice", "dice_rv", "ace", "hd95")}
        {'ece': 0.0, 'sce': 0.0, 'dice': 1.0, 'dice_rv': nan, 'ace': 0.0, 'hd95': 0.0}
    """
    return score(ScanScorer(probs, labels, n_bins, roi_size, spacing=spacing), metrics)


def score(scorer: ScanScorer, metrics: Iterable[str] | None = None) -> dict[str, float]:
    """Every registered metric (or those named) of a :class:`ScanScorer`, as fractions."""
    names = list(METRICS) if metrics is None else list(metrics)
    return {name: float(get_metric(name).compute(scorer)) for name in names}
