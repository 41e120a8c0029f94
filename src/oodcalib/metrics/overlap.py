"""Overlap metrics of the benchmark: Dice per foreground class, over a whole scan.

Dice is computed on the whole scan, not in the ROI (the paper restricts only ECE and SCE
to the ROI), with counts summed over all slices (not averaged per slice). A class absent
from both prediction and ground truth has an undefined Dice (NaN), left out of the mean;
a class predicted but absent from the ground truth scores 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from oodcalib.metrics.bin_stats import as_numpy, top_class
from oodcalib.metrics.binning import CHUNK_SIZE, iter_chunks


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
        pred = top_class(p)[1] if is_probs else p[0].astype(np.intp)
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
