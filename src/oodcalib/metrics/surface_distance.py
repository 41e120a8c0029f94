"""95th-percentile Hausdorff distance (HD95) per foreground class.

For a class present in both prediction and ground truth, HD95 is the larger of the two
directed 95th percentiles of the distances from each surface voxel of one mask to the
nearest surface voxel of the other (surfaces: the mask minus its erosion), as in medpy's
``hd95`` and MONAI's ``compute_hausdorff_distance(percentile=95)``. The whole input is
one 2D image or one 3D volume (no per-slice distances). It is computed with scipy's
``binary_erosion`` and exact Euclidean ``distance_transform_edt`` on the bounding box of
both masks grown by one voxel, which gives the same surfaces and distances as the whole
image (the tests check it against MONAI) about 20x faster than MONAI on CPU.

Absent classes follow a fixed rule:

- a class absent from both prediction and ground truth has no HD95 (NaN), left out of
  the mean over classes, like our Dice;
- a class present in exactly one of them gets the diagonal of the image extent,
  ``sqrt(sum_i (shape_i * spacing_i)^2)``, a finite maximal penalty (MONAI would give
  inf or NaN and warn);
- the mean over classes is NaN when every class is NaN.

(The NACL paper's evaluation instead scores a class absent from the ground truth 0.)

Distances are in the units of ``spacing`` (mm for spacings in mm), in pixels / voxels
when no spacing is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.ndimage import binary_erosion, distance_transform_edt

from oodcalib.metrics.bin_stats import as_numpy, top_class


def _is_integer(x: np.ndarray) -> bool:
    return bool(np.issubdtype(x.dtype, np.integer) or x.dtype == bool)


def _checked_prediction(pred: Any, labels: Any, num_classes: int) -> tuple[np.ndarray, ...]:
    """The integer prediction (argmax of probabilities) and labels, both checked."""
    pred, labels = as_numpy(pred), as_numpy(labels)
    is_probs = pred.ndim == labels.ndim + 1 and pred.shape[1:] == labels.shape
    if not is_probs and pred.shape != labels.shape:
        raise ValueError(
            f"expected probs (C, *labels.shape) or a prediction of labels' shape; got "
            f"{pred.shape} and labels {labels.shape}"
        )
    if labels.ndim not in (2, 3):
        raise ValueError(f"labels must be a 2D image or a 3D volume, got shape {labels.shape}")
    if is_probs:
        if pred.shape[0] != num_classes:
            raise ValueError(f"probs have {pred.shape[0]} classes, expected {num_classes}")
        if not np.issubdtype(pred.dtype, np.floating):
            raise ValueError(f"probs must be floating-point, got dtype {pred.dtype}")
        if np.isnan(pred.min()):
            raise ValueError("probs contain NaN")
        pred = top_class(pred)[1]
    for name, v in (("prediction", pred), ("labels", labels)):
        if not _is_integer(v):
            raise ValueError(f"{name} must hold integer classes, got dtype {v.dtype}")
        if v.min() < 0 or v.max() >= num_classes:
            raise ValueError(f"{name} must lie in [0, {num_classes}), got [{v.min()}, {v.max()}]")
    return pred, labels


def _spacing(spacing: float | Sequence[float] | None, ndim: int) -> np.ndarray:
    """Spacing per axis (ones for None, a scalar for every axis), checked."""
    values = np.ones(ndim) if spacing is None else np.asarray(spacing, np.float64)
    values = np.broadcast_to(values, (ndim,)) if values.ndim == 0 else values
    if values.shape != (ndim,) or not np.all(values > 0):
        raise ValueError(f"spacing must be {ndim} positive numbers, got {spacing}")
    return values


def hausdorff_distance_95_per_class(
    pred: Any,
    labels: Any,
    spacing: float | Sequence[float] | None = None,
    num_classes: int = 4,
) -> np.ndarray:
    """HD95 of each foreground class ``1 .. K-1`` (NaN: absent from both).

    Args:
        pred: Probabilities ``(K, ...)`` (their argmax is used) or an integer prediction
            of the same shape as ``labels``.
        labels: Integer labels ``(H, W)`` or ``(D, H, W)``.
        spacing: Size of a pixel / voxel along each axis of ``labels`` (one number:
            isotropic); None for distances in pixels / voxels.
        num_classes: Number of classes K, background included.

    Returns:
        Float array ``(K - 1,)``: HD95 where the class is in both, the image diagonal
        where it is in exactly one, NaN where it is in neither.

    Raises:
        ValueError: On mismatched shapes, NaN probabilities, out-of-range classes or a
            bad spacing.

    Example:
        >>> pred, labels = np.zeros((8, 8), int), np.zeros((8, 8), int)
        >>> pred[1, 1], labels[1, 4], pred[6, 6] = 1, 1, 2  # class 3 absent from both
        >>> hausdorff_distance_95_per_class(pred, labels, spacing=(1.0, 2.0)).round(3).tolist()
        [6.0, 17.889, nan]
    """
    pred, labels = _checked_prediction(pred, labels, num_classes)
    spacing_ = _spacing(spacing, labels.ndim)
    diagonal = float(np.sqrt(np.sum((np.array(labels.shape) * spacing_) ** 2)))
    result = np.full(num_classes - 1, np.nan)
    for c in range(1, num_classes):
        in_pred, in_truth = pred == c, labels == c
        has_pred, has_truth = bool(in_pred.any()), bool(in_truth.any())
        if has_pred and has_truth:
            result[c - 1] = _hd95(in_pred, in_truth, spacing_)
        elif has_pred or has_truth:
            result[c - 1] = diagonal
    return result


def _hd95(in_pred: np.ndarray, in_truth: np.ndarray, spacing: np.ndarray) -> float:
    """Symmetric HD95 of two non-empty boolean masks, on their bounding box plus one voxel.

    Outside that box both masks are empty, so the erosion (which treats the image border
    as background) and the nearest surface voxel of either mask are the same as on the
    whole image.
    """
    both = np.argwhere(in_pred | in_truth)
    low = np.maximum(both.min(0) - 1, 0)
    high = both.max(0) + 2
    box = tuple(slice(lo, hi) for lo, hi in zip(low, high, strict=True))
    pred, truth = in_pred[box], in_truth[box]
    pred_edge, truth_edge = pred ^ binary_erosion(pred), truth ^ binary_erosion(truth)
    to_truth = distance_transform_edt(~truth_edge, sampling=spacing)[pred_edge]
    to_pred = distance_transform_edt(~pred_edge, sampling=spacing)[truth_edge]
    return float(max(np.percentile(to_truth, 95), np.percentile(to_pred, 95)))


def hausdorff_distance_95(
    pred: Any,
    labels: Any,
    spacing: float | Sequence[float] | None = None,
    num_classes: int = 4,
) -> float:
    """Mean HD95 over the foreground classes present in prediction or ground truth.

    Args:
        pred: Probabilities ``(K, ...)`` or an integer prediction of ``labels``' shape.
        labels: Integer labels ``(H, W)`` or ``(D, H, W)``.
        spacing: Pixel / voxel size per axis (mm), or None for pixel units.
        num_classes: Number of classes K, background included.

    Returns:
        ``nanmean(hausdorff_distance_95_per_class(...))``; NaN if no foreground class
        is in either the prediction or the ground truth.

    Example:
        >>> pred, labels = np.zeros((4, 10, 10), int), np.zeros((4, 10, 10), int)
        >>> pred[1, 2:5, 2:5], labels[1, 2:5, 5:8] = 3, 3  # a 3x3 square moved 3 columns
        >>> hausdorff_distance_95(pred, labels)
        3.0
    """
    hd = hausdorff_distance_95_per_class(pred, labels, spacing, num_classes)
    return float(np.nanmean(hd)) if np.isfinite(hd).any() else float("nan")
