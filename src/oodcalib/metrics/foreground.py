"""Calibration on ground-truth foreground pixels, as in the NACL paper: ECE and CECE.

Only pixels labelled foreground (``label != 0``) of a scan are binned, in 15 equal-width
right-closed bins (``linspace(0, 1, 16)``), then the error is the one of those pixels:

- ``foreground ECE = sum_b (n_b / N) |acc_b - conf_b|`` of the top label (max probability,
  correct when the argmax equals the label);
- ``CECE = (1/K) sum_c sum_b (n_bc / N) |acc_bc - conf_bc|`` of every class probability
  ``p_c``, background included (a class-wise SCE restricted to the foreground).

``N`` is the number of foreground pixels. A scan without any foreground pixel has no
foreground calibration error: both metrics are NaN there (left out of means over scans),
not an error.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from oodcalib.metrics.bin_stats import BinStats, as_numpy
from oodcalib.metrics.binning import CHUNK_SIZE, accumulate

#: Bins of the NACL paper's metrics.
FOREGROUND_BINS = 15


def foreground_mask(labels: Any) -> np.ndarray:
    """Ground-truth foreground ``labels != 0`` as a boolean numpy array."""
    return np.not_equal(as_numpy(labels), 0)


def foreground_bin_stats(
    probs: Any, labels: Any, n_bins: int = FOREGROUND_BINS, chunk_size: int = CHUNK_SIZE
) -> tuple[BinStats, BinStats]:
    """Top-label and class-wise statistics of the foreground pixels, in one pass.

    Args:
        probs: Probabilities ``(K, ...)``, numpy or torch.
        labels: Integer labels ``(...)``; the pixels with ``label != 0`` are binned.
        n_bins: Number of equal-width right-closed bins.
        chunk_size: Pixels processed at a time.

    Returns:
        ``(top, classwise)`` of shapes ``(n_bins,)`` and ``(K, n_bins)``.

    Example:
        >>> probs = np.array([[0.9, 0.2, 0.6], [0.1, 0.8, 0.4]])
        >>> top, classwise = foreground_bin_stats(probs, np.array([0, 1, 1]))
        >>> int(top.counts.sum()), classwise.counts.shape
        (2, (2, 15))
    """
    top, classwise = accumulate(probs, labels, foreground_mask(labels), n_bins, chunk_size)
    assert top is not None and classwise is not None  # both asked for
    return top, classwise


def foreground_error(stats: BinStats) -> float:
    """The calibration error of foreground statistics; NaN when there is no foreground."""
    return stats.calibration_error() if stats.num_pixels else float("nan")


def foreground_calibration_error(probs: Any, labels: Any, n_bins: int = FOREGROUND_BINS) -> float:
    """Top-label ECE ``sum_b (n_b / N) |acc_b - conf_b|`` over the foreground pixels.

    Args:
        probs: Probabilities ``(K, ...)``, background first.
        labels: Integer labels ``(...)``; only pixels with ``label != 0`` count.
        n_bins: Number of equal-width right-closed bins.

    Returns:
        The ECE as a fraction; NaN if no pixel is labelled foreground.

    Raises:
        ValueError: On mismatched shapes, NaN or out-of-range values.

    Example:
        >>> probs = np.array([[0.9, 0.2, 0.6, 0.3], [0.1, 0.8, 0.4, 0.7]])
        >>> labels = np.array([0, 1, 1, 1])  # foreground confidences 0.8, 0.6 (wrong), 0.7
        >>> round(foreground_calibration_error(probs, labels), 6)  # (0.2 + 0.6 + 0.3) / 3
        0.366667
        >>> foreground_calibration_error(probs, np.zeros(4, int))
        nan
    """
    top, _ = accumulate(probs, labels, foreground_mask(labels), n_bins, classwise=False)
    assert top is not None  # top_label=True
    return foreground_error(top)


def classwise_calibration_error(probs: Any, labels: Any, n_bins: int = FOREGROUND_BINS) -> float:
    """CECE ``(1/K) sum_c sum_b (n_bc / N) |acc_bc - conf_bc|`` over the foreground pixels.

    Every class probability (background included) is binned against ``label == c``.

    Args:
        probs: Probabilities ``(K, ...)``, background first.
        labels: Integer labels ``(...)``; only pixels with ``label != 0`` count.
        n_bins: Number of equal-width right-closed bins.

    Returns:
        The CECE as a fraction; NaN if no pixel is labelled foreground.

    Raises:
        ValueError: On mismatched shapes, NaN or out-of-range values.

    Example:
        >>> probs = np.array([[0.9, 0.2, 0.6], [0.1, 0.8, 0.4]])
        >>> labels = np.array([0, 1, 1])  # class 0: 0.2 and 0.6, never right; class 1 mirrors
        >>> round(classwise_calibration_error(probs, labels), 6)  # (0.2 + 0.6) / 2 per class
        0.4
    """
    _, classwise = accumulate(probs, labels, foreground_mask(labels), n_bins, top_label=False)
    assert classwise is not None  # classwise=True
    return foreground_error(classwise)
