"""Proper scoring rules per voxel: the Brier score, its foreground version and the NLL.

- ``Brier = mean over voxels of sum_k (p_k - y_k)^2`` with ``y`` the one-hot label (the
  multi-class Brier; for two classes it is twice the binary ``(p_fg - y_fg)^2``);
- stratified Brier (Brier+, MEEP paper) = the same over ground-truth foreground voxels
  (``label != 0``), NaN for a scan without foreground;
- ``NLL = mean over voxels of -log max(p_y, 1e-12)``.

Voxels are processed by chunks with float64 sums, so memory stays bounded. The scores
are not bounded by 1: the Brier lies in ``[0, 2]``, the NLL in ``[0, 27.6]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from oodcalib.metrics.binning import CHUNK_SIZE, _checked, check_inputs, iter_chunks
from oodcalib.metrics.foreground import foreground_mask

#: Probabilities are clamped to this floor before the log of the NLL.
NLL_FLOOR = 1e-12


def _squared_error(p: np.ndarray, y: np.ndarray) -> float:
    diff = p.copy()
    diff[y, np.arange(y.size)] -= 1.0
    return float(np.einsum("kn,kn->", diff, diff))


def _log_loss(p: np.ndarray, y: np.ndarray) -> float:
    return float(-np.log(np.maximum(p[y, np.arange(y.size)], NLL_FLOOR)).sum())


def _voxel_mean(
    score: Callable[[np.ndarray, np.ndarray], float],
    probs: Any,
    labels: Any,
    mask: Any,
    chunk_size: int,
) -> float:
    """Mean of a per-voxel score over the voxels in ``mask`` (NaN if there are none)."""
    probs, labels, mask = check_inputs(probs, labels, mask)
    total, count = 0.0, 0
    for p, y in _checked(iter_chunks(probs, labels, mask, chunk_size), probs.shape[0]):
        total += score(p.astype(np.float64, copy=False), y)
        count += y.size
    return total / count if count else float("nan")


def brier_score(probs: Any, labels: Any, mask: Any = None, chunk_size: int = CHUNK_SIZE) -> float:
    """Multi-class Brier score ``mean over voxels of sum_k (p_k - y_k)^2``.

    Args:
        probs: Probabilities ``(K, ...)``, numpy or torch.
        labels: Integer labels ``(...)`` in ``[0, K)``.
        mask: Optional boolean ``(...)``; only its voxels count (None: all).
        chunk_size: Voxels processed at a time.

    Returns:
        The Brier score in ``[0, 2]``; NaN if ``mask`` selects no voxel.

    Raises:
        ValueError: On mismatched shapes, NaN or out-of-range values.

    Example:
        >>> probs = np.array([[0.9, 0.4], [0.1, 0.6]])
        >>> round(brier_score(probs, np.array([0, 0])), 6)  # (0.01 + 0.01 + 0.36 + 0.36) / 2
        0.37
    """
    return _voxel_mean(_squared_error, probs, labels, mask, chunk_size)


def stratified_brier_score(probs: Any, labels: Any, chunk_size: int = CHUNK_SIZE) -> float:
    """Brier score over the ground-truth foreground voxels (``label != 0``) only.

    Args:
        probs: Probabilities ``(K, ...)``, background first.
        labels: Integer labels ``(...)``.
        chunk_size: Voxels processed at a time.

    Returns:
        The foreground Brier score in ``[0, 2]``; NaN if no voxel is foreground.

    Raises:
        ValueError: On mismatched shapes, NaN or out-of-range values.

    Example:
        >>> probs = np.array([[0.9, 0.4], [0.1, 0.6]])
        >>> round(stratified_brier_score(probs, np.array([0, 1])), 6)  # 0.16 + 0.16
        0.32
    """
    return _voxel_mean(_squared_error, probs, labels, foreground_mask(labels), chunk_size)


def negative_log_likelihood(
    probs: Any, labels: Any, mask: Any = None, chunk_size: int = CHUNK_SIZE
) -> float:
    """Negative log-likelihood ``mean over voxels of -log max(p_y, 1e-12)``.

    Args:
        probs: Probabilities ``(K, ...)``, numpy or torch (not logits).
        labels: Integer labels ``(...)`` in ``[0, K)``.
        mask: Optional boolean ``(...)``; only its voxels count (None: all).
        chunk_size: Voxels processed at a time.

    Returns:
        The NLL in nats, in ``[0, -log 1e-12]``; NaN if ``mask`` selects no voxel.

    Raises:
        ValueError: On mismatched shapes, NaN or out-of-range values.

    Example:
        >>> probs = np.array([[0.5, 0.0], [0.5, 1.0]])
        >>> round(negative_log_likelihood(probs, np.array([0, 0])), 4)  # (log 2 + log 1e12) / 2
        14.1621
    """
    return _voxel_mean(_log_loss, probs, labels, mask, chunk_size)
