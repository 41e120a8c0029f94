"""The figure a reader grasps at a glance: every method's metric across the domains.

One point per (method, domain): the mean over matched units (fold, repeat, case), with
the 95% bootstrap confidence interval of that mean (the BCa interval of
:func:`~oodcalib.benchmark.reporting.significance.bootstrap_ci`, the one the leaderboard
uses for differences). Domains run along the x axis in table order, the artifact average
after the artifacts; methods are dodged side by side in registry order.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from oodcalib.benchmark.names import display_name, domain_headers
from oodcalib.benchmark.reporting.figures import save_figure, series_palette
from oodcalib.benchmark.reporting.grouping import (
    as_entrants,
    is_grid,
    metric_label,
    ordered,
    ordered_domains,
    split_entrants,
    with_kind_averages,
)
from oodcalib.benchmark.reporting.significance import bootstrap_ci
from oodcalib.errors import OodcalibError
from oodcalib.metrics import in_percent


def summary_points(
    results: pd.DataFrame,
    metric: str,
    confidence: float = 0.95,
    kinds: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Mean and bootstrap CI per (method, domain) of one metric, in fractions.

    Example:
        >>> df = pd.DataFrame({"method": "uc", "fold": 0, "repeat": 0, "domain": "clean",
        ...     "case": list("abcd"), "metric": "ece", "value": [0.1, 0.2, 0.2, 0.3]})
        >>> summary_points(df, "ece")[["method", "domain", "n", "mean"]].values.tolist()
        [['uc', 'clean', 4, 0.2]]
    """
    subset = results[(results["metric"] == metric) & results["value"].notna()]
    if subset.empty:
        present = ", ".join(sorted(results["metric"].unique()))
        raise OodcalibError(
            f"metric {metric!r} has no values in these results; metrics present: {present}"
        )
    rows = []
    for (method, domain), group in with_kind_averages(subset, kinds).groupby(
        ["method", "domain"], sort=False
    ):
        values = group["value"].to_numpy(float)
        low, high = bootstrap_ci(values, confidence)
        rows.append(
            {
                "method": method,
                "domain": domain,
                "n": len(values),
                "mean": float(values.mean()),
                "ci_low": low,
                "ci_high": high,
            }
        )
    return pd.DataFrame(rows)


def summary_figure(
    results: pd.DataFrame,
    metric: str = "ece",
    names: Mapping[str, str] | None = None,
    domains: Mapping[str, str] | None = None,
    losses: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
) -> Figure:
    """Points with 95% CIs of ``metric`` (in %) for every method across the domains.

    In a loss grid there is one panel per method, with one series per training loss
    (named by ``losses``, ``{loss: display name}``).
    """
    points = summary_points(as_entrants(results), metric, kinds=kinds)
    order = ordered_domains(list(points["domain"].unique()), domains, kinds)
    grid = is_grid(results)
    panels: list[str] | list[None]  # one panel per method in a grid, else a single one
    if grid:
        points = split_entrants(points)
        panels = ordered(list(points["method"]), names)
        series = ordered(list(points["loss"]), losses)
    else:
        panels, series = [None], ordered(list(points["method"]), names)
    fig = Figure(figsize=(1.3 * len(order) + 2.5, 3.4 * len(panels) + 0.4))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(panels), 1, squeeze=False, sharex=True)[:, 0]
    for ax, panel in zip(axes, panels, strict=True):
        rows = points if panel is None else points[points["method"] == panel]
        key, labels = ("loss", losses) if grid else ("method", names)
        _draw(ax, rows, key, series, order, metric, labels)
        if panel is not None:
            ax.set_title(f"calibrator: {display_name(panel, names)}", fontsize="medium")
    headers = domain_headers(domains, order)
    axes[-1].set_xticks(
        np.arange(len(order)), [display_name(d, headers) for d in order], rotation=20, ha="right"
    )
    fig.suptitle(
        f"{metric_label(metric)} per domain: mean and 95% bootstrap CI over (fold, repeat, scan)",
        fontsize="medium",
    )
    return fig


def _draw(
    ax,
    points: pd.DataFrame,
    key: str,
    series: list[str],
    order: list[str],
    metric: str,
    labels: Mapping[str, str] | None,
) -> None:
    """One panel: a dodged point with its CI per (series, domain)."""
    colours = series_palette(len(series))
    width = 0.8 / len(series)
    scale = 100 if in_percent(metric) else 1
    for i, name in enumerate(series):
        rows = points[points[key] == name].set_index("domain").reindex(order)
        x = np.arange(len(order)) - 0.4 + width * (i + 0.5)
        ax.errorbar(
            x,
            scale * rows["mean"],
            yerr=[
                scale * (rows["mean"] - rows["ci_low"]),
                scale * (rows["ci_high"] - rows["mean"]),
            ],
            fmt="o",
            ms=4,
            capsize=2,
            color=colours[i],
            label=display_name(name, labels),
        )
    ax.set_ylabel(metric_label(metric) + (" (%)" if in_percent(metric) else ""))
    ax.grid(axis="y", alpha=0.4)
    ax.legend(fontsize="small", frameon=False, bbox_to_anchor=(1.01, 1), loc="upper left")


def write_summary_figure(
    results: pd.DataFrame,
    out_dir: Path,
    metric: str = "ece",
    names: Mapping[str, str] | None = None,
    domains: Mapping[str, str] | None = None,
    losses: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
) -> Path:
    """Write ``summary_<metric>.png`` in ``out_dir``; return its path."""
    fig = summary_figure(results, metric, names, domains, losses, kinds)
    return save_figure(fig, Path(out_dir) / f"summary_{metric}.png")
