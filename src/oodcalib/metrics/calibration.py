"""Calibration metrics of the benchmark: the ROI, ECE and SCE.

The definitions follow the reference evaluation code (REFERENCE.md, section 1):

- ECE and SCE are computed inside a region of interest: the foreground dilated by a
  10x10 square, slice by slice (:func:`roi_mask`).
- Bins are 10 equal-width right-closed intervals ``(lower, upper]``; 0 goes in the first
  bin (see :mod:`oodcalib.metrics.binning`).
- The unit is one scan: bin statistics are summed over its slices before the error is
  taken.

Inputs may be numpy arrays or torch tensors: probabilities ``(C, ...)`` and integer
labels ``(...)``. Results are fractions in ``[0, 1]``, not percentages.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.ndimage import maximum_filter

from oodcalib.metrics.bin_stats import as_numpy
from oodcalib.metrics.binning import classwise_bin_stats, top_label_bin_stats


def roi_mask(labels: Any, size: int = 10) -> np.ndarray:
    """Foreground (``label > 0``) dilated by a ``size x size`` square, slice by slice.

    This is ``scipy.ndimage.maximum_filter(labels > 0, size)`` over the last two axes
    only, so slices never affect each other. For an even size the square spans offsets
    ``-size//2 + 1 .. size//2`` around each foreground pixel (scipy's origin convention).

    Args:
        labels: Integer labels ``(H, W)`` or ``(..., H, W)``.
        size: Side of the square structuring element, in pixels.

    Returns:
        Boolean mask of the same shape as ``labels``.

    Example:
        >>> labels = np.zeros((12, 12), np.uint8)
        >>> labels[5, 5] = 2
        >>> mask = roi_mask(labels)
        >>> int(mask.sum()), np.argwhere(mask).min(0).tolist(), np.argwhere(mask).max(0).tolist()
        (100, [1, 1], [10, 10])
    """
    labels = as_numpy(labels)
    if labels.ndim < 2:
        raise ValueError(f"labels must have at least 2 dimensions (H, W), got {labels.shape}")
    footprint = (1,) * (labels.ndim - 2) + (size, size)
    return maximum_filter(labels > 0, size=footprint)


def expected_calibration_error(
    probs: Any, labels: Any, mask: Any = None, n_bins: int = 10
) -> float:
    """Top-label expected calibration error ``sum_b (n_b / N) |acc_b - conf_b|``.

    Confidence is the max probability and a pixel is correct when its argmax equals its
    label; ``acc_b`` and ``conf_b`` are the mean correctness and confidence of the
    ``n_b`` pixels in right-closed bin ``b``, and ``N`` is the number of pixels in
    ``mask``.

    Args:
        probs: Probabilities ``(C, ...)``.
        labels: Integer labels ``(...)``.
        mask: Boolean ``(...)`` region (None: all pixels), e.g. :func:`roi_mask`.
        n_bins: Number of equal-width bins.

    Returns:
        The ECE as a fraction.

    Raises:
        ValueError: On mismatched shapes, NaN or out-of-range values, or an empty mask.

    Example:
        >>> probs = np.array([[0.9, 0.8, 0.3, 0.4], [0.1, 0.2, 0.7, 0.6]])
        >>> labels = np.array([0, 1, 1, 1])  # one pixel per bin: (0.1 + 0.8 + 0.3 + 0.4) / 4
        >>> round(expected_calibration_error(probs, labels), 6)
        0.4
    """
    return top_label_bin_stats(probs, labels, mask, n_bins).ece()


def static_calibration_error(probs: Any, labels: Any, mask: Any = None, n_bins: int = 10) -> float:
    """Static calibration error ``(1/K) sum_c sum_b (n_bc / N) |acc_bc - conf_bc|``.

    Every class probability ``p_c`` (background included) is binned; ``acc_bc`` is the
    fraction of the ``n_bc`` pixels in bin ``b`` labelled ``c`` and ``conf_bc`` their
    mean ``p_c`` (Nixon et al., 2019). ``N`` is the number of pixels in ``mask``.

    Args:
        probs: Probabilities ``(K, ...)``.
        labels: Integer labels ``(...)``.
        mask: Boolean ``(...)`` region (None: all pixels), e.g. :func:`roi_mask`.
        n_bins: Number of equal-width bins.

    Returns:
        The SCE as a fraction.

    Raises:
        ValueError: On mismatched shapes, NaN or out-of-range values, or an empty mask.

    Example:
        >>> probs = np.array([[0.9, 0.8], [0.1, 0.2]])
        >>> labels = np.array([0, 0])  # class 0: (0.1 + 0.2) / 2, class 1: (0.1 + 0.2) / 2
        >>> round(static_calibration_error(probs, labels), 6)
        0.15
    """
    return classwise_bin_stats(probs, labels, mask, n_bins).sce()
