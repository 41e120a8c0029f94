"""Accumulating bin statistics over probability maps, chunk by chunk.

Pixels are processed slice by slice (all axes but the last two), in chunks of at most
``chunk_size`` pixels, and accumulated with ``np.bincount`` into
:class:`~oodcalib.metrics.bin_stats.BinStats`: the working memory is
``O(C * chunk_size)`` whatever the number of slices (plus a copy of one slice when a
slice is not contiguous in memory).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from oodcalib.metrics.bin_stats import BinStats, as_numpy, bin_index, top_class

CHUNK_SIZE = 1 << 16
_PROB_TOLERANCE = 1e-5


def check_inputs(
    probs: Any, labels: Any, mask: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Convert to numpy and check shapes: probs ``(C, ...)``, labels and mask ``(...)``."""
    probs, labels = as_numpy(probs), as_numpy(labels)
    if probs.ndim < 1 or probs.shape[1:] != labels.shape:
        raise ValueError(
            f"probs must have shape (C, *labels.shape); got probs {probs.shape} "
            f"and labels {labels.shape}"
        )
    if not np.issubdtype(probs.dtype, np.floating):
        raise ValueError(f"probs must be floating-point probabilities, got dtype {probs.dtype}")
    if not (np.issubdtype(labels.dtype, np.integer) or labels.dtype == bool):
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
    if mask is None:
        return probs, labels, None
    mask = as_numpy(mask)
    if mask.shape != labels.shape:
        raise ValueError(f"mask shape {mask.shape} differs from labels shape {labels.shape}")
    return probs, labels, mask.astype(bool, copy=False)


def iter_slices(shape: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    """Indices over all axes but the last two (one index ``()`` for 1D or 2D shapes)."""
    return np.ndindex(*shape[:-2]) if len(shape) > 2 else iter([()])


def iter_chunks(
    probs: np.ndarray, labels: np.ndarray, mask: np.ndarray | None, chunk_size: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(probs (C, n), labels (n,))`` chunks of the pixels inside the mask.

    C-contiguous inputs are cut into chunks of ``chunk_size`` pixels across slices (all
    views, no copy). Others go slice by slice (all axes but the last two), then by
    ``chunk_size`` pixels: only a slice that is not contiguous in memory is ever copied.
    """
    num_classes = probs.shape[0]
    arrays = [probs, labels] + ([] if mask is None else [mask])
    whole = len(labels.shape) > 2 and all(a.flags.c_contiguous for a in arrays)
    for index in [()] if whole else iter_slices(labels.shape):
        flat_probs = probs[(slice(None),) + index].reshape(num_classes, -1)
        flat_labels = np.reshape(labels[index], -1)
        flat_mask = None if mask is None else np.reshape(mask[index], -1)
        for start in range(0, flat_labels.size, chunk_size):
            chunk = slice(start, start + chunk_size)
            p, y = flat_probs[:, chunk], flat_labels[chunk]
            if flat_mask is not None:
                keep = flat_mask[chunk]
                p, y = p[:, keep], y[keep]
            yield p, y


def _checked(
    chunks: Iterator[tuple[np.ndarray, np.ndarray]], num_classes: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Drop empty chunks and check NaN and the ranges of probabilities and labels."""
    for p, y in chunks:
        if y.size == 0:
            continue
        low, high = p.min(), p.max()  # NaN propagates through min and max
        if np.isnan(low) or np.isnan(high):
            raise ValueError("probs contain NaN")
        if low < -_PROB_TOLERANCE or high > 1 + _PROB_TOLERANCE:
            raise ValueError(f"probs must lie in [0, 1], got values in [{low}, {high}] (logits?)")
        if y.min() < 0 or y.max() >= num_classes:
            raise ValueError(f"labels must lie in [0, {num_classes}), got [{y.min()}, {y.max()}]")
        yield p, y.astype(np.intp)


def accumulate(
    probs: Any,
    labels: Any,
    mask: Any = None,
    n_bins: int = 10,
    chunk_size: int = CHUNK_SIZE,
    top_label: bool = True,
    classwise: bool = True,
) -> tuple[BinStats | None, BinStats | None]:
    """Top-label and class-wise statistics in one pass (None for those not asked)."""
    if int(n_bins) != n_bins or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    probs, labels, mask = check_inputs(probs, labels, mask)
    num_classes = probs.shape[0]
    top = BinStats.zeros(n_bins) if top_label else None
    cls = BinStats.zeros(n_bins, num_classes) if classwise else None
    rows = np.arange(num_classes)[:, None]
    size = num_classes * n_bins
    for p, y in _checked(iter_chunks(probs, labels, mask, chunk_size), num_classes):
        p = p.astype(np.float64, copy=False)
        if top is not None:
            conf, predicted = top_class(p)
            idx = bin_index(conf, n_bins)
            top.counts += np.bincount(idx, minlength=n_bins)
            top.conf_sum += np.bincount(idx, weights=conf, minlength=n_bins)
            top.acc_sum += np.bincount(idx[predicted == y], minlength=n_bins)
        if cls is not None:
            idx = (bin_index(p, n_bins) + rows * n_bins).reshape(-1)
            is_class = (rows == y[None]).reshape(-1)
            cls.counts += np.bincount(idx, minlength=size).reshape(num_classes, n_bins)
            cls.conf_sum += np.bincount(idx, weights=p.reshape(-1), minlength=size).reshape(
                num_classes, n_bins
            )
            cls.acc_sum += np.bincount(idx[is_class], minlength=size).reshape(num_classes, n_bins)
    return top, cls


def top_label_bin_stats(
    probs: Any, labels: Any, mask: Any = None, n_bins: int = 10, chunk_size: int = CHUNK_SIZE
) -> BinStats:
    """Top-label bin statistics (confidence = max prob, correct = argmax == label).

    Args:
        probs: Probabilities ``(C, ...)``, numpy or torch.
        labels: Integer labels ``(...)`` in ``[0, C)``.
        mask: Optional boolean ``(...)``; only its pixels are binned (None: all).
        n_bins: Number of equal-width right-closed bins.
        chunk_size: Pixels processed at a time (bounds the memory used).

    Returns:
        Statistics of shape ``(n_bins,)``; ``.ece()`` gives the ECE.

    Example:
        >>> probs = np.array([[0.9, 0.85, 0.3], [0.1, 0.15, 0.7]])
        >>> stats = top_label_bin_stats(probs, np.array([0, 1, 1]))
        >>> stats.counts.tolist(), stats.acc_sum.tolist()
        ([0, 0, 0, 0, 0, 0, 1, 0, 2, 0], [0, 0, 0, 0, 0, 0, 1, 0, 1, 0])
    """
    top, _ = accumulate(probs, labels, mask, n_bins, chunk_size, classwise=False)
    assert top is not None  # top_label=True
    return top


def classwise_bin_stats(
    probs: Any, labels: Any, mask: Any = None, n_bins: int = 10, chunk_size: int = CHUNK_SIZE
) -> BinStats:
    """Class-wise bin statistics: every ``p_c`` binned against ``label == c``.

    Args:
        probs: Probabilities ``(C, ...)``, numpy or torch.
        labels: Integer labels ``(...)`` in ``[0, C)``.
        mask: Optional boolean ``(...)``; only its pixels are binned (None: all).
        n_bins: Number of equal-width right-closed bins.
        chunk_size: Pixels processed at a time (bounds the memory used).

    Returns:
        Statistics of shape ``(C, n_bins)``; ``.sce()`` gives the SCE.

    Example:
        >>> probs = np.array([[0.9, 0.85, 0.3], [0.1, 0.15, 0.7]])
        >>> classwise_bin_stats(probs, np.array([0, 1, 1]), n_bins=2).acc_sum.tolist()
        [[0, 1], [1, 1]]
    """
    _, classwise = accumulate(probs, labels, mask, n_bins, chunk_size, top_label=False)
    assert classwise is not None  # classwise=True
    return classwise
