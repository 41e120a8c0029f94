"""The ACE paper's dataset reliability histogram (its Fig. 4), from the per-scan bins.

For one (method, domain) and each foreground class: for every one of the 20 probability
bins (x axis), the histogram over test scans of that scan's observed frequency ``o_m``
in the bin (y axis, the same 20 right-closed bins); scans whose bin is empty are skipped.
Each column is normalised to sum 1 and drawn as a heat map (YlOrRd, gamma 0.35). A last
panel sums the classes' histograms before normalising. Below each heat map, the voxel
count per bin on a log axis. A well-calibrated method puts its mass on the diagonal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import PowerNorm
from matplotlib.figure import Figure

from oodcalib.benchmark.layout import ENTRANT_SEP
from oodcalib.benchmark.names import display_name
from oodcalib.benchmark.reporting.figures import save_figure
from oodcalib.benchmark.reporting.grouping import as_entrants
from oodcalib.errors import OodcalibError
from oodcalib.metrics import FOREGROUND_NAMES, bin_index

#: Probability bins of the ACE paper.
N_BINS = 20


def reliability_histograms(
    bins: pd.DataFrame, n_bins: int = N_BINS
) -> tuple[np.ndarray, np.ndarray]:
    """Scan counts ``(K, n_bins [o_m], n_bins [bin])`` and voxel counts ``(K, n_bins)``.

    ``bins`` holds the per-scan rows of one (method, domain) (columns ``fold``,
    ``repeat``, ``case``, ``class``, ``bin``, ``count``, ``acc_sum``); ``K`` counts every
    class, background included. Only non-empty bins have rows, so empty ones are skipped.

    Example:
        >>> rows = pd.DataFrame({"class": [1, 1], "bin": [19, 19], "count": [4, 2],
        ...                      "acc_sum": [4, 1]})
        >>> hist, voxels = reliability_histograms(rows, n_bins=20)
        >>> int(hist[1, 19, 19]), int(hist[1, 9, 19]), int(voxels[1, 19])
        (1, 1, 6)
    """
    classes = 1 + len(FOREGROUND_NAMES)
    hist = np.zeros((classes, n_bins, n_bins), np.int64)
    voxels = np.zeros((classes, n_bins), np.int64)
    observed = bin_index((bins["acc_sum"] / bins["count"]).to_numpy(), n_bins)
    klass, column = bins["class"].to_numpy(), bins["bin"].to_numpy()
    np.add.at(hist, (klass, observed, column), 1)
    np.add.at(voxels, (klass, column), bins["count"].to_numpy())
    return hist, voxels


def _normalised(hist: np.ndarray) -> np.ndarray:
    totals = hist.sum(axis=0, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, hist / totals, np.nan)


def dataset_reliability_figure(bins: pd.DataFrame, title: str, n_bins: int = N_BINS) -> Figure:
    """Heat maps per foreground class and their sum, each above its voxel-count strip."""
    hist, voxels = reliability_histograms(bins, n_bins)
    panels = [(name.upper(), hist[i + 1], voxels[i + 1]) for i, name in enumerate(FOREGROUND_NAMES)]
    panels.append(("sum", hist[1:].sum(axis=0), voxels[1:].sum(axis=0)))
    fig = Figure(figsize=(3.2 * len(panels), 4.6), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, len(panels), squeeze=False, height_ratios=[3, 1])
    centres = (np.arange(n_bins) + 0.5) / n_bins
    for (name, counts, strip), top, bottom in zip(panels, axes[0], axes[1], strict=True):
        shown = top.imshow(
            _normalised(counts),
            origin="lower",
            extent=(0, 1, 0, 1),
            cmap="YlOrRd",
            norm=PowerNorm(0.35, vmin=0, vmax=1),
            aspect="auto",
            interpolation="nearest",
        )
        top.plot([0, 1], [0, 1], color="0.3", lw=0.8, ls="--")
        top.set(title=name, ylabel="observed frequency $o_m$", xticks=[])
        bottom.bar(centres, np.maximum(strip, 0), width=1 / n_bins, color="0.5", log=True)
        bottom.set(xlim=(0, 1), xlabel="predicted probability", ylabel="voxels")
    fig.colorbar(shown, ax=axes[0].tolist(), fraction=0.02, label="share of scans")
    fig.suptitle(title)
    return fig


def write_dataset_reliability(
    bins: pd.DataFrame,
    out_dir: Path,
    domains: Sequence[str] | None = None,
    methods: Sequence[str] | None = None,
    names: Mapping[str, str] | None = None,
) -> list[Path]:
    """One PNG per (method, domain): ``dataset_reliability_<method>_<domain>.png``.

    In a loss grid the "method" is the entrant ``loss/method`` (file ``<loss>_<method>``);
    ``methods`` may name entrants or bare methods (a method on every loss).

    Raises:
        OodcalibError: No bins at all, or a requested domain or method without any.
    """
    if bins.empty:
        raise OodcalibError("no per-scan bins in this run; `oodcalib rescore RUN_DIR` writes them")
    bins = as_entrants(bins)
    base = bins["method"].astype(str).str.split(ENTRANT_SEP).str[-1]
    for column, wanted, present in (
        ("domain", domains, set(bins["domain"])),
        ("method", methods, set(bins["method"]) | set(base)),
    ):
        missing = sorted(set(wanted or []) - present)
        if missing:
            raise OodcalibError(
                f"no bins for {column} {', '.join(missing)}; present: {', '.join(sorted(present))}"
            )
    chosen = bins["method"].isin(methods) | base.isin(methods) if methods else True
    selected = bins[bins["domain"].isin(domains or bins["domain"].unique()) & chosen]
    paths = []
    for (method, domain), group in selected.groupby(["method", "domain"], sort=False):
        fig = dataset_reliability_figure(
            group,
            f"{display_name(method, names)} on {domain} ({group['case'].nunique()} "
            f"scans × {group[['fold', 'repeat']].drop_duplicates().shape[0]} fits)",
        )
        safe = str(method).replace(":", ".").replace("/", "_")
        paths.append(save_figure(fig, Path(out_dir) / f"dataset_reliability_{safe}_{domain}.png"))
    return paths
