"""Calibration under shift: metrics against corruption severity (ImageNet-C, Ovadia et al.).

From a severity sweep's tidy results
(:func:`~oodcalib.benchmark.protocol.severity_sweep.run_severity_sweep`): one panel per
corruption (and the artifact average), one row per metric, one line per calibrator,
level 0 being the clean scans. Each point is the mean over matched units (fold, repeat,
scan) with a normal-approximation 95% interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from oodcalib.atomic import write_csv, write_text
from oodcalib.benchmark.layout import CLEAN
from oodcalib.benchmark.names import ARTIFACT_AVG, display_name, domain_headers
from oodcalib.benchmark.reporting.figures import save_figure, series_palette
from oodcalib.benchmark.reporting.grouping import (
    as_entrants,
    metric_label,
    ordered,
    with_kind_averages,
)
from oodcalib.errors import OodcalibError
from oodcalib.metrics import in_percent

#: Metrics drawn by default, one row of panels each.
DEFAULT_METRICS = ("ece", "dice")


def severity_points(results: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Mean and 95% half-width per (method, metric, corruption, level).

    The clean rows (level 0) become level 0 of every corruption, and the artifact average
    is taken per matched unit at each level.

    Example:
        >>> df = pd.DataFrame({"method": "uc", "fold": 0, "repeat": 0, "case": ["a", "a",
        ...     "a", "a"], "domain": ["clean", "motion", "spike", "motion"], "metric":
        ...     "ece", "value": [0.1, 0.2, 0.4, 0.3], "setting": ["0", "1", "1", "2"]})
        >>> p = severity_points(df, ["ece"])
        >>> p[p["domain"] == "artifact avg"][["level", "mean"]].values.tolist()
        [[0.0, 0.1], [1.0, 0.30000000000000004]]
    """
    frame = as_entrants(results)
    frame = frame[frame["metric"].isin(metrics)].drop(columns="loss", errors="ignore")
    if frame.empty:
        raise OodcalibError(f"no values of {', '.join(metrics)} in the sweep's results")
    corruptions = [d for d in dict.fromkeys(frame["domain"]) if d != CLEAN]
    clean = frame[frame["domain"] == CLEAN]
    frame = pd.concat(
        [frame[frame["domain"] != CLEAN], *[clean.assign(domain=name) for name in corruptions]],
        ignore_index=True,
    )
    # a level without every corruption has no average (the clean level has them all)
    parts = [
        (
            with_kind_averages(group.drop(columns="setting")).assign(setting=level)
            if set(corruptions) <= set(group["domain"])
            else group
        )
        for level, group in frame.groupby("setting", sort=False)
    ]
    frame = pd.concat(parts, ignore_index=True)
    points = (
        frame.groupby(["method", "metric", "domain", "setting"], sort=False)["value"]
        .agg(["mean", "std", "count"])
        .reset_index()
    )
    points["ci"] = 1.96 * points["std"].fillna(0) / np.sqrt(points["count"])
    points.insert(3, "level", points.pop("setting").astype(float))
    return points.sort_values(["method", "metric", "domain", "level"]).reset_index(drop=True)


def severity_figure(
    results: pd.DataFrame,
    metrics: Sequence[str] = DEFAULT_METRICS,
    names: Mapping[str, str] | None = None,
    domains: Mapping[str, str] | None = None,
) -> Figure:
    """Panels: a row per metric, a column per corruption and the artifact average."""
    metrics = [m for m in metrics if m in set(results["metric"])]
    points = severity_points(results, metrics)
    panels = [
        *ordered([d for d in points["domain"].unique() if d != ARTIFACT_AVG], domains),
        ARTIFACT_AVG,
    ]
    methods = ordered(list(points["method"].unique()), names)
    palette = series_palette(len(methods))
    fig = Figure(figsize=(2.9 * len(panels) + 1.8, 2.6 * len(metrics)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(metrics), len(panels), squeeze=False, sharex=True)
    headers = domain_headers(domains, panels)
    for row, metric in enumerate(metrics):
        scale = 100 if in_percent(metric) else 1
        for col, domain in enumerate(panels):
            ax = axes[row][col]
            for method, colour in zip(methods, palette, strict=True):
                line = points[
                    (points["metric"] == metric)
                    & (points["domain"] == domain)
                    & (points["method"] == method)
                ]
                ax.errorbar(
                    line["level"],
                    scale * line["mean"],
                    yerr=scale * line["ci"],
                    marker="o",
                    ms=3,
                    capsize=2,
                    color=colour,
                    label=display_name(method, names),
                )
            if row == 0:
                ax.set_title(display_name(domain, headers), fontsize="medium")
            if col == 0:
                ax.set_ylabel(metric_label(metric) + (" (%)" if in_percent(metric) else ""))
            if row == len(metrics) - 1:
                ax.set_xlabel("severity (0: clean)")
            ax.grid(alpha=0.4)
    axes[0][-1].legend(fontsize="small", frameon=False, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.suptitle(
        "Calibration under shift: mean over (fold, repeat, scan), 95% CI", fontsize="medium"
    )
    return fig


def severity_table(results: pd.DataFrame, metrics: Sequence[str] = DEFAULT_METRICS) -> pd.DataFrame:
    """Wide table: a row per (method, metric, level), a column per corruption and the average."""
    points = severity_points(results, metrics)
    table = points.pivot_table(
        index=["method", "metric", "level"], columns="domain", values="mean", sort=False
    )
    table.columns.name = None
    return table.reset_index()


def severity_markdown(
    table: pd.DataFrame,
    metric: str,
    names: Mapping[str, str] | None = None,
    domains: Mapping[str, str] | None = None,
) -> str:
    """One metric of :func:`severity_table` as Markdown, in % where the metric is."""
    block = table[table["metric"] == metric]
    columns = [
        *ordered(
            [c for c in block.columns if c not in ("method", "metric", "level", ARTIFACT_AVG)],
            domains,
        ),
        ARTIFACT_AVG,
    ]
    headers = domain_headers(domains, columns)
    scale = 100 if in_percent(metric) else 1
    lines = [
        f"{metric_label(metric)}{' (%)' if scale == 100 else ''} against severity (0: clean)",
        "",
        "| method | severity | " + " | ".join(display_name(c, headers) for c in columns) + " |",
        "|---" * (len(columns) + 2) + "|",
    ]
    for method in ordered(list(block["method"].unique()), names):
        for _, row in block[block["method"] == method].sort_values("level").iterrows():
            cells = " | ".join(f"{scale * row[c]:.2f}" for c in columns)
            lines.append(f"| {display_name(method, names)} | {int(row['level'])} | {cells} |")
    return "\n".join(lines) + "\n"


def write_severity_outputs(
    results: pd.DataFrame,
    out_dir: Path,
    names: Mapping[str, str] | None = None,
    domains: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write ``table.csv``, ``table.md`` and ``severity.png`` in ``out_dir``."""
    out_dir = Path(out_dir)
    metrics = [m for m in DEFAULT_METRICS if m in set(results["metric"])]
    table = severity_table(results, metrics)
    markdown = "\n".join(severity_markdown(table, m, names, domains) for m in metrics)
    return [
        write_csv(out_dir / "table.csv", table),
        write_text(out_dir / "table.md", markdown),
        save_figure(severity_figure(results, metrics, names, domains), out_dir / "severity.png"),
    ]
