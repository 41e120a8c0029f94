"""Reliability diagrams, confidence histograms and entropy / error maps of one scan.

Pure functions on calibrator outputs ``(Z, C, H, W)``, labels ``(Z, H, W)`` integers and
ROIs ``(Z, H, W)`` booleans (:func:`oodcalib.metrics.roi_mask`). Bins are the
right-closed equal-width bins of the ECE, from the same bin statistics
(:func:`~oodcalib.metrics.top_label_bin_stats`), so a diagram's gap is the ECE.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from scipy.special import xlogy

from oodcalib.errors import OodcalibError
from oodcalib.metrics import as_numpy, top_label_bin_stats


def _scan(probs: Any, label: Any = None, roi: Any = None) -> tuple[np.ndarray, ...]:
    """Numpy probs ``(Z, C, H, W)``, then label and a non-empty boolean roi ``(Z, H, W)``."""
    probs = as_numpy(probs)
    if probs.ndim != 4 or probs.shape[1] < 2 or not np.issubdtype(probs.dtype, np.floating):
        raise OodcalibError(
            f"probs must be floating-point (Z, C, H, W) with C >= 2, got {probs.dtype} "
            f"{probs.shape}"
        )
    spatial = probs.shape[:1] + probs.shape[2:]
    out = [probs]
    for name, x in (("label", label), ("roi", roi)):
        if x is not None:
            x = as_numpy(x)
            if x.shape != spatial:
                raise OodcalibError(f"{name} must have shape {spatial} (Z, H, W), got {x.shape}")
            out.append(x)
    if roi is not None:
        out[-1] = out[-1].astype(bool, copy=False)
        if not out[-1].any():
            raise OodcalibError("empty ROI: no pixel to compute confidences on")
    return tuple(out)


def reliability_data(probs: Any, label: Any, roi: Any, n_bins: int = 10) -> pd.DataFrame:
    """Top-label confidence and accuracy per bin, inside the ROI.

    For the ROI pixels, confidence is ``max_c p_c`` and a pixel is correct when
    ``argmax_c p_c == label``. Pixels go in the right-closed bins ``(k/n, (k+1)/n]`` of
    the ECE; ``confidence`` and ``accuracy`` are the bin means (NaN for an empty bin) and
    ``gap = confidence - accuracy`` (positive: over-confident). Hence
    ``ECE = sum_b count_b |gap_b| / sum_b count_b``.

    Args:
        probs: Probabilities ``(Z, C, H, W)``.
        label: Integer labels ``(Z, H, W)``.
        roi: Boolean region ``(Z, H, W)``.
        n_bins: Number of equal-width bins.

    Returns:
        One row per bin: bin_lower, bin_upper, count, confidence, accuracy, gap.

    Raises:
        OodcalibError: On mismatched shapes or an empty ROI.

    Example:
        >>> probs = np.array([0.9, 0.6, 0.1, 0.4]).reshape(1, 2, 1, 2)  # (Z, C, H, W)
        >>> data = reliability_data(probs, np.array([[[0, 1]]]), np.ones((1, 1, 2), bool), 2)
        >>> data[["count", "confidence", "accuracy"]].values.tolist()
        [[0.0, nan, nan], [2.0, 0.75, 0.5]]
    """
    probs, label, roi = _scan(probs, label, roi)
    stats = top_label_bin_stats(np.moveaxis(probs, 1, 0), label, roi, n_bins)
    count = stats.counts
    confidence, accuracy = stats.bin_means()
    edges = np.arange(n_bins + 1) / n_bins
    return pd.DataFrame(
        {
            "bin_lower": edges[:-1],
            "bin_upper": edges[1:],
            "count": count,
            "confidence": confidence,
            "accuracy": accuracy,
            "gap": confidence - accuracy,
        }
    )


def _ece(data: pd.DataFrame) -> float:
    """Count-weighted mean ``|gap|`` of :func:`reliability_data` (empty bins weigh 0)."""
    filled = data[data["count"] > 0]
    return float((filled["count"] * filled["gap"].abs()).sum() / filled["count"].sum())


def plot_reliability(ax: Axes, data: pd.DataFrame, title: str) -> None:
    """Reliability diagram: accuracy bars, the diagonal and the gap to the confidence.

    Blue bars are the accuracy of each non-empty bin; red hatched bars span from the
    accuracy to the mean confidence of the bin (above: over-confident). The legend gives
    the ECE of ``data``.

    Args:
        ax: Axes to draw on.
        data: Output of :func:`reliability_data`.
        title: Axes title (e.g. the method's display name).
    """
    filled = data[data["count"] > 0]
    centre = (filled["bin_lower"] + filled["bin_upper"]) / 2
    width = filled["bin_upper"] - filled["bin_lower"]
    ax.bar(centre, filled["accuracy"], width, color="tab:blue", edgecolor="black", label="accuracy")
    ax.bar(
        centre,
        filled["gap"],
        width,
        bottom=filled["accuracy"],
        color="tab:red",
        alpha=0.3,
        hatch="//",
        edgecolor="tab:red",
        label=f"gap (ECE {100 * _ece(data):.2f}%)",
    )
    ax.plot([0, 1], [0, 1], "--", color="gray", label="perfect calibration")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence", ylabel="accuracy", title=title)
    ax.legend(loc="upper left", fontsize="small")


def plot_confidence_histogram(
    ax: Axes, probs: Any, roi: Any, title: str, label: Any = None, n_bins: int = 10
) -> None:
    """Histogram of the top-label confidence ``max_c p_c`` over the ROI pixels.

    Bars are the fraction of ROI pixels in each right-closed bin of the ECE. A dashed
    line marks the mean confidence and, when ``label`` is given, a solid one the
    accuracy (fraction of ROI pixels with ``argmax == label``).

    Args:
        ax: Axes to draw on.
        probs: Probabilities ``(Z, C, H, W)``.
        roi: Boolean region ``(Z, H, W)``.
        title: Axes title.
        label: Optional integer labels ``(Z, H, W)`` for the accuracy line.
        n_bins: Number of equal-width bins.

    Raises:
        OodcalibError: On mismatched shapes or an empty ROI.
    """
    probs, roi = _scan(probs, roi=roi)
    predicted = probs.argmax(axis=1)  # counts do not depend on the labels
    stats = top_label_bin_stats(np.moveaxis(probs, 1, 0), predicted, roi, n_bins)
    fraction = stats.counts / stats.num_pixels
    mean_conf = float(stats.conf_sum.sum() / stats.num_pixels)
    ax.bar(
        (np.arange(n_bins) + 0.5) / n_bins,
        fraction,
        1 / n_bins,
        color="tab:blue",
        edgecolor="black",
    )
    ax.axvline(
        mean_conf, color="tab:orange", ls="--", lw=2, label=f"mean confidence {mean_conf:.3f}"
    )
    if label is not None:
        _, label = _scan(probs, label)
        accuracy = (predicted == label)[roi].mean()
        ax.axvline(accuracy, color="tab:green", lw=2, label=f"accuracy {accuracy:.3f}")
    ax.set(xlim=(0, 1), xlabel="confidence", ylabel="fraction of ROI pixels", title=title)
    ax.legend(loc="upper left", fontsize="small")


def entropy_map(probs: Any) -> np.ndarray:
    """Normalised predictive entropy ``-sum_c p_c log p_c / log C`` in ``[0, 1]``.

    Args:
        probs: Probabilities ``(Z, C, H, W)`` (``0 log 0 = 0``).

    Returns:
        Float array ``(Z, H, W)``: 0 for a one-hot pixel, 1 for a uniform one.

    Example:
        >>> entropy_map(np.array([[0.5, 1.0], [0.5, 0.0]]).reshape(1, 2, 1, 2)).tolist()
        [[[1.0, 0.0]]]
    """
    (probs,) = _scan(probs)
    entropy = -xlogy(probs, probs).sum(axis=1) / np.log(probs.shape[1])
    return np.clip(entropy, 0.0, 1.0) + 0.0  # + 0.0 turns -0.0 into 0.0


def error_map(probs: Any, label: Any) -> np.ndarray:
    """Boolean ``(Z, H, W)`` map of the pixels where ``argmax_c p_c != label``.

    Example:
        >>> probs = np.array([[0.9, 0.2], [0.1, 0.8]]).reshape(1, 2, 1, 2)
        >>> error_map(probs, np.array([[[0, 0]]])).tolist()
        [[[False, True]]]
    """
    probs, label = _scan(probs, label)
    return probs.argmax(axis=1) != label
