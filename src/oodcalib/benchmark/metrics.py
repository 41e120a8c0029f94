"""Segmentation calibration metrics of the benchmark: ROI, ECE, SCE and Dice.

The definitions follow the reference evaluation code (REFERENCE.md, section 1):

- ECE and SCE are computed inside a region of interest: the foreground dilated by a
  10x10 square, slice by slice (:func:`roi_mask`).
- Bins are 10 equal-width right-closed intervals ``(lower, upper]``; 0 goes in the first
  bin (see :mod:`oodcalib.benchmark.binning`).
- The unit is one scan: bin statistics are summed over its slices before the error is
  taken, and Dice counts are summed over the whole scan (not averaged per slice).
- Dice is computed on the whole scan, not in the ROI (the paper restricts only ECE and
  SCE to the ROI). A class absent from both prediction and ground truth has an
  undefined Dice (NaN), left out of the mean; a class predicted but absent from the
  ground truth scores 0.

Inputs may be numpy arrays or torch tensors: probabilities ``(C, ...)`` and integer
labels ``(...)``. Results are fractions in ``[0, 1]``, not percentages.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.ndimage import maximum_filter

from oodcalib.benchmark.binning import (
    CHUNK_SIZE,
    accumulate,
    as_numpy,
    classwise_bin_stats,
    iter_chunks,
    top_label_bin_stats,
)

FOREGROUND_NAMES = ("rv", "myo", "lv")


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


def _confusion(x: Any, labels: Any, num_classes: int, chunk_size: int) -> np.ndarray:
    """Confusion counts ``[pred, label]`` of an argmax or integer prediction, by chunks."""
    x, labels = as_numpy(x), as_numpy(labels)
    is_probs = x.ndim == labels.ndim + 1 and x.shape[1:] == labels.shape
    if not is_probs and x.shape != labels.shape:
        raise ValueError(
            f"expected probs (C, *labels.shape) or a prediction of labels' shape; got "
            f"{x.shape} and labels {labels.shape}"
        )
    if is_probs and x.shape[0] != num_classes:
        raise ValueError(f"probs have {x.shape[0]} classes, expected num_classes={num_classes}")
    for name, v in (("labels", labels), ("a prediction", None if is_probs else x)):
        if v is not None and not (np.issubdtype(v.dtype, np.integer) or v.dtype == bool):
            raise ValueError(f"{name} must hold integer classes, got dtype {v.dtype}")
    counts = np.zeros(num_classes * num_classes, np.int64)
    for p, y in iter_chunks(x if is_probs else x[None], labels, None, chunk_size):
        if p.size == 0:
            continue
        if is_probs and np.isnan(p.min()):
            raise ValueError("probs contain NaN")
        pred = p.argmax(axis=0) if is_probs else p[0].astype(np.intp)
        y = y.astype(np.intp)
        for name, v in (("prediction", pred), ("labels", y)):
            if v.min() < 0 or v.max() >= num_classes:
                raise ValueError(
                    f"{name} must lie in [0, {num_classes}), got [{v.min()}, {v.max()}]"
                )
        counts += np.bincount(pred * num_classes + y, minlength=num_classes**2)
    return counts.reshape(num_classes, num_classes)


def dice_per_class(
    probs_or_pred: Any, labels: Any, num_classes: int = 4, chunk_size: int = CHUNK_SIZE
) -> np.ndarray:
    """Dice ``2 |P_c ∩ G_c| / (|P_c| + |G_c|)`` of each foreground class ``1 .. K-1``.

    Counts are summed over the whole input (a scan, not per slice). A class absent from
    both prediction and ground truth gives NaN; predicted but absent from the ground
    truth gives 0.

    Args:
        probs_or_pred: Probabilities or logits ``(K, ...)`` (their argmax is used) or
            an integer prediction of the same shape as ``labels``.
        labels: Integer labels ``(...)``.
        num_classes: Number of classes K, background included.
        chunk_size: Pixels processed at a time.

    Returns:
        Float array of shape ``(K - 1,)``.

    Example:
        >>> pred = np.array([[0, 1, 1, 2]])
        >>> labels = np.array([[0, 1, 2, 2]])
        >>> dice_per_class(pred, labels, num_classes=4).tolist()  # LV absent: NaN
        [0.6666666666666666, 0.6666666666666666, nan]
    """
    confusion = _confusion(probs_or_pred, labels, num_classes, chunk_size)
    overlap = np.diag(confusion)[1:].astype(np.float64)
    total = (confusion.sum(axis=1) + confusion.sum(axis=0))[1:]  # |P_c| + |G_c|
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 2 * overlap / total, np.nan)


def dice_score(probs_or_pred: Any, labels: Any, num_classes: int = 4) -> float:
    """Mean Dice over the foreground classes, ignoring NaN (classes absent from both).

    Args:
        probs_or_pred: Probabilities ``(K, ...)`` or an integer prediction ``(...)``.
        labels: Integer labels ``(...)``.
        num_classes: Number of classes K, background included.

    Returns:
        ``nanmean(dice_per_class(...))``; NaN if no foreground class is present at all.

    Example:
        >>> dice_score(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]))
        0.6666666666666666
    """
    dice = dice_per_class(probs_or_pred, labels, num_classes)
    return float(np.nanmean(dice)) if np.isfinite(dice).any() else float("nan")


def scan_metrics(probs: Any, labels: Any, n_bins: int = 10, roi_size: int = 10) -> dict[str, float]:
    """ECE and SCE in the ROI and whole-scan Dice of one cardiac scan.

    Args:
        probs: Probabilities ``(4, Z, H, W)`` (background, RV, MYO, LV).
        labels: Integer labels ``(Z, H, W)``; the ROI is derived from them.
        n_bins: Number of calibration bins.
        roi_size: Side of the ROI dilation square.

    Returns:
        ``{"ece", "sce", "dice", "dice_rv", "dice_myo", "dice_lv"}`` as fractions.

    Example:
        >>> labels = np.zeros((1, 16, 16), np.uint8)
        >>> labels[0, 6:9, 6:9] = 3
        >>> probs = np.eye(4)[labels].transpose(3, 0, 1, 2)  # perfect one-hot
        >>> {k: round(v, 3) for k, v in scan_metrics(probs, labels).items()}
        {'ece': 0.0, 'sce': 0.0, 'dice': 1.0, 'dice_rv': nan, 'dice_myo': nan, 'dice_lv': 1.0}
    """
    probs, labels = as_numpy(probs), as_numpy(labels)
    if probs.ndim != 4 or probs.shape[0] != 1 + len(FOREGROUND_NAMES):
        raise ValueError(f"probs must have shape (4, Z, H, W), got {probs.shape}")
    top, classwise = accumulate(probs, labels, roi_mask(labels, roi_size), n_bins)
    dice = dice_per_class(probs, labels, num_classes=probs.shape[0])
    result = {"ece": top.ece(), "sce": classwise.sce()}
    result["dice"] = float(np.nanmean(dice)) if np.isfinite(dice).any() else float("nan")
    result.update({f"dice_{n}": float(d) for n, d in zip(FOREGROUND_NAMES, dice, strict=True)})
    return result
