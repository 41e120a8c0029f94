"""Marginal (class-wise) calibration of the ACE paper: ACE, MCE and ECE per foreground class.

Every class probability ``p_c`` is binned over all voxels of a scan (no ROI) in 20
right-closed bins; in bin ``m`` of class ``c``, ``n_m`` voxels have mean probability
``e_m`` and observed frequency ``o_m`` (fraction labelled ``c``). Per foreground class::

    ECE_c = sum_m n_m |o_m - e_m| / sum_m n_m
    ACE_c = mean over non-empty bins m of |o_m - e_m|
    MCE_c = max_m |o_m - e_m|   (empty bins count as 0)

and each metric is the mean over the foreground classes ``1 .. K-1``. A class absent from
the ground truth still counts (its ``o_m`` are 0), as in the authors' evaluation and in
MONAI's ``CalibrationErrorMetric(include_background=False)``.

Macro values (per scan, then the mean over scans) come from a scan's
:class:`~oodcalib.metrics.bin_stats.BinStats`; micro values (bins pooled over a
data set) from :class:`~oodcalib.metrics.marginal_micro.MicroBins`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from oodcalib.metrics.bin_stats import BinStats
from oodcalib.metrics.binning import CHUNK_SIZE, classwise_bin_stats

#: Bins of the ACE paper's metrics.
MARGINAL_BINS = 20


def marginal_bin_stats(
    probs: Any, labels: Any, n_bins: int = MARGINAL_BINS, chunk_size: int = CHUNK_SIZE
) -> BinStats:
    """Class-wise statistics over all voxels: :func:`classwise_bin_stats` with 20 bins.

    Args:
        probs: Probabilities ``(K, ...)``, numpy or torch.
        labels: Integer labels ``(...)`` in ``[0, K)``.
        n_bins: Number of equal-width right-closed bins.
        chunk_size: Pixels processed at a time.

    Returns:
        Statistics of shape ``(K, n_bins)``. Summing those of slices gives the scan's;
        for the authors' micro average over scans (unweighted ``e_m``), feed each scan's
        to :meth:`~oodcalib.metrics.marginal_micro.MicroBins.from_scan`.

    Example:
        >>> marginal_bin_stats(np.array([[0.9, 0.3], [0.1, 0.7]]), np.array([0, 0])).counts.shape
        (2, 20)
    """
    return classwise_bin_stats(probs, labels, None, n_bins, chunk_size)


def class_gaps(
    counts: np.ndarray, expected: np.ndarray, observed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class ``(ACE_c, MCE_c, ECE_c)`` of the foreground rows ``1 .. K-1``.

    Args:
        counts: Voxels per bin ``(K, n_bins)``.
        expected: Mean probability ``e_m`` per bin (any value where a bin is empty).
        observed: Observed frequency ``o_m`` per bin (any value where a bin is empty).

    Returns:
        Three float arrays of shape ``(K - 1,)``.

    Raises:
        ValueError: If there is no foreground row or no voxel was binned.
    """
    if counts.ndim != 2 or counts.shape[0] < 2:
        raise ValueError(
            f"marginal calibration needs class-wise statistics (K >= 2, n_bins), got shape "
            f"{counts.shape}"
        )
    n, e, o = counts[1:], expected[1:], observed[1:]
    if np.any(n.sum(axis=-1) == 0):
        raise ValueError("no voxel was binned: the marginal calibration error is undefined")
    filled = n > 0
    gap = np.where(filled, np.abs(o - e), 0.0)
    ace = gap.sum(axis=-1) / filled.sum(axis=-1)
    ece = (n * gap).sum(axis=-1) / n.sum(axis=-1)
    return ace, gap.max(axis=-1), ece


def _gaps(stats: BinStats) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    expected, observed = stats.bin_means()
    return class_gaps(stats.counts, expected, observed)


def ace_from_bins(stats: BinStats) -> float:
    """``mean_c nanmean_m |o_m - e_m|`` over the foreground classes of class-wise stats.

    Example:
        >>> stats = BinStats(np.array([[2, 0], [1, 1]]), np.array([[0.2, 0.0], [0.2, 0.8]]),
        ...                  np.array([[1, 0], [0, 1]]))
        >>> round(ace_from_bins(stats), 6)  # class 1: (|0 - 0.2| + |1 - 0.8|) / 2
        0.2
    """
    return float(np.mean(_gaps(stats)[0]))


def mce_from_bins(stats: BinStats) -> float:
    """``mean_c max_m |o_m - e_m|`` over the foreground classes (empty bins count as 0).

    Example:
        >>> stats = BinStats(np.array([[2, 0], [1, 1]]), np.array([[0.2, 0.0], [0.3, 0.8]]),
        ...                  np.array([[1, 0], [0, 1]]))
        >>> round(mce_from_bins(stats), 6)
        0.3
    """
    return float(np.mean(_gaps(stats)[1]))


def marginal_ece_from_bins(stats: BinStats) -> float:
    """``mean_c sum_m n_m |o_m - e_m| / sum_m n_m`` over the foreground classes.

    Example:
        >>> stats = BinStats(np.array([[3, 0], [2, 1]]), np.array([[0.2, 0.0], [0.6, 0.8]]),
        ...                  np.array([[1, 0], [0, 1]]))
        >>> round(marginal_ece_from_bins(stats), 6)  # (2 * 0.3 + 1 * 0.2) / 3
        0.266667
    """
    return float(np.mean(_gaps(stats)[2]))


def average_calibration_error(probs: Any, labels: Any, n_bins: int = MARGINAL_BINS) -> float:
    """Marginal ACE of one scan: per foreground class, the mean gap over non-empty bins.

    Args:
        probs: Probabilities ``(K, ...)`` with ``K >= 2``, background first.
        labels: Integer labels ``(...)``.
        n_bins: Number of equal-width right-closed bins.

    Returns:
        ``mean_c nanmean_m |o_m - e_m|`` over classes ``1 .. K-1``, a fraction.

    Raises:
        ValueError: On mismatched shapes, NaN or out-of-range values, or ``K < 2``.

    Example:
        >>> probs = np.array([[0.8, 0.8, 0.4, 0.1], [0.2, 0.2, 0.6, 0.9]])
        >>> labels = np.array([0, 1, 1, 1])  # class 1 bins 0.2 (o 1/2), 0.6 (o 1), 0.9 (o 1)
        >>> round(average_calibration_error(probs, labels, n_bins=10), 6)  # (0.3 + 0.4 + 0.1) / 3
        0.266667
    """
    return ace_from_bins(marginal_bin_stats(probs, labels, n_bins))


def maximum_calibration_error(probs: Any, labels: Any, n_bins: int = MARGINAL_BINS) -> float:
    """Marginal MCE of one scan: per foreground class, the largest gap over the bins.

    Args:
        probs: Probabilities ``(K, ...)`` with ``K >= 2``, background first.
        labels: Integer labels ``(...)``.
        n_bins: Number of equal-width right-closed bins.

    Returns:
        ``mean_c max_m |o_m - e_m|`` over classes ``1 .. K-1``, a fraction.

    Raises:
        ValueError: On mismatched shapes, NaN or out-of-range values, or ``K < 2``.

    Example:
        >>> probs = np.array([[0.8, 0.8, 0.4, 0.1], [0.2, 0.2, 0.6, 0.9]])
        >>> round(maximum_calibration_error(probs, np.array([0, 1, 1, 1]), n_bins=10), 6)
        0.4
    """
    return mce_from_bins(marginal_bin_stats(probs, labels, n_bins))


def marginal_calibration_error(probs: Any, labels: Any, n_bins: int = MARGINAL_BINS) -> float:
    """Marginal ECE of one scan: per foreground class, the count-weighted mean gap.

    Args:
        probs: Probabilities ``(K, ...)`` with ``K >= 2``, background first.
        labels: Integer labels ``(...)``.
        n_bins: Number of equal-width right-closed bins.

    Returns:
        ``mean_c sum_m n_m |o_m - e_m| / sum_m n_m`` over classes ``1 .. K-1``, a fraction.

    Raises:
        ValueError: On mismatched shapes, NaN or out-of-range values, or ``K < 2``.

    Example:
        >>> probs = np.array([[0.8, 0.8, 0.4, 0.1], [0.2, 0.2, 0.6, 0.9]])
        >>> labels = np.array([0, 1, 1, 1])
        >>> round(marginal_calibration_error(probs, labels, n_bins=10), 6)  # (2*.3 + .4 + .1) / 4
        0.275
    """
    return marginal_ece_from_bins(marginal_bin_stats(probs, labels, n_bins))
