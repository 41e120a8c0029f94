"""Per-case figures of the benchmark, after Figure 2 of the paper.

:func:`case_figures` writes, for one case, the reliability diagram and confidence
histogram of each method inside the ROI, and the entropy map of its probabilities beside
the image and the error map (the panels are in :mod:`~oodcalib.benchmark.reporting.reliability`).
Figures are :class:`matplotlib.figure.Figure` objects drawn on the Agg canvas, never
registered with pyplot, so nothing needs a display and nothing leaks between calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from oodcalib.atomic import atomic_write
from oodcalib.benchmark.names import display_name
from oodcalib.benchmark.reporting.reliability import (
    entropy_map,
    error_map,
    plot_confidence_histogram,
    plot_reliability,
    reliability_data,
)
from oodcalib.errors import OodcalibError
from oodcalib.metrics import as_numpy, roi_mask

_PANEL = 3.2  # inches per panel


def _contour(ax: Axes, mask: np.ndarray, **kwargs: Any) -> None:
    """Outline a boolean 2D mask (skipped when it is constant: no contour exists)."""
    if mask.any() and not mask.all():
        ax.contour(mask.astype(float), levels=[0.5], **kwargs)


def series_palette(n: int) -> list:
    """``n`` distinguishable colours: colour-blind safe up to 10, then tab20."""
    return sns.color_palette("colorblind" if n <= 10 else "tab20", n)


def save_figure(fig: Figure, path: Path) -> Path:
    """Lay out ``fig`` (unless it has a layout engine) and write it as a PNG atomically."""
    if fig.get_layout_engine() is None:
        fig.tight_layout()
    atomic_write(path, lambda handle: fig.savefig(handle, format="png", dpi=100))
    fig.clear()
    return path


def case_figures(
    probs_by_method: dict[str, np.ndarray],
    image: Any,
    label: Any,
    out_dir: Path,
    prefix: str,
    slice_index: int | None = None,
    n_bins: int = 10,
    roi_size: int = 10,
    names: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write the reliability, confidence and entropy/error PNGs of one case.

    Files, in ``out_dir`` (created if needed), one panel or row per method, in the
    order of ``probs_by_method``, titled with the display names of ``names``:

    - ``{prefix}_reliability.png``: :func:`plot_reliability` in the ROI, in a row.
    - ``{prefix}_confidence.png``: :func:`plot_confidence_histogram`, in a row.
    - ``{prefix}_entropy_error.png``: one row per method; the image with the ROI
      outlined, :func:`entropy_map` and :func:`error_map` of slice ``slice_index``
      (default: the slice with the largest foreground ``label > 0``).

    Args:
        probs_by_method: Registry name -> probabilities ``(Z, C, H, W)``.
        image: Image ``(Z, H, W)``.
        label: Integer labels ``(Z, H, W)``; the ROI is ``roi_mask(label, roi_size)``.
        out_dir: Output directory.
        prefix: File name prefix (e.g. ``"{domain}_{case}"``).
        slice_index: Slice of the entropy/error figure.
        n_bins: Number of calibration bins.
        roi_size: Side of the ROI dilation square.
        names: ``{method: display name}`` (default: the method names).

    Returns:
        The three written paths, in the order above.

    Raises:
        OodcalibError: On no method, mismatched shapes, a bad slice or an empty ROI.
    """
    if not probs_by_method:
        raise OodcalibError(f"case {prefix!r}: no method to plot")
    image, label = as_numpy(image), as_numpy(label)
    if image.shape != label.shape or label.ndim != 3:
        raise OodcalibError(
            f"case {prefix!r}: image {image.shape} and label {label.shape} must both be (Z, H, W)"
        )
    roi = roi_mask(label, roi_size)
    if slice_index is None:
        slice_index = int((label > 0).sum(axis=(1, 2)).argmax())
    if not -label.shape[0] <= slice_index < label.shape[0]:
        raise OodcalibError(f"case {prefix!r}: slice {slice_index} out of {label.shape[0]}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    titles = {m: display_name(m, names) for m in probs_by_method}
    n = len(probs_by_method)
    paths = []
    with sns.axes_style("whitegrid"), sns.plotting_context("paper"):
        for kind in ("reliability", "confidence"):
            fig = Figure(figsize=(_PANEL * n, _PANEL))
            FigureCanvasAgg(fig)
            for ax, (method, probs) in zip(
                fig.subplots(1, n, squeeze=False)[0], probs_by_method.items(), strict=True
            ):
                if kind == "reliability":
                    data = reliability_data(probs, label, roi, n_bins)
                    plot_reliability(ax, data, titles[method])
                else:
                    plot_confidence_histogram(ax, probs, roi, titles[method], label, n_bins)
            paths.append(save_figure(fig, out_dir / f"{prefix}_{kind}.png"))
        fig = Figure(figsize=(_PANEL * 3, _PANEL * n))
        FigureCanvasAgg(fig)
        z = slice_index % label.shape[0]
        for row, (method, probs) in zip(
            fig.subplots(n, 3, squeeze=False), probs_by_method.items(), strict=True
        ):
            panels = (
                (image[z], "gray", None, "image + ROI"),
                (entropy_map(probs[z : z + 1])[0], "magma", (0, 1), "normalised entropy"),
                (error_map(probs[z : z + 1], label[z : z + 1])[0], "gray", (0, 1), "error"),
            )
            for ax, (data, cmap, limits, title) in zip(row, panels, strict=True):
                vmin, vmax = limits or (None, None)
                shown = ax.imshow(data, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
                _contour(ax, roi[z], colors="yellow", linewidths=0.8)
                ax.set(xticks=[], yticks=[], title=f"{title} (slice {z})")
                ax.grid(False)
                if cmap == "magma":
                    fig.colorbar(shown, ax=ax, fraction=0.046)
            row[0].set_ylabel(titles[method])
        paths.append(save_figure(fig, out_dir / f"{prefix}_entropy_error.png"))
    return paths
