"""Sensitivity plots of a loss hyperparameter sweep: a metric against the value, per domain.

The ACE, NACL and MEEP papers plot calibration and Dice against their loss weight on
clean test scans; this figure adds the artifact average and the sequence shift. One
panel per metric; one colour per domain group (clean, artifact avg, LGE), one line style
per post-hoc calibrator; each point is the mean over matched units (fold, repeat, scan).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from oodcalib.benchmark.layout import CLEAN, LGE
from oodcalib.benchmark.names import ARTIFACT_AVG, ARTIFACT_AVG_HEADER, DOMAIN_HEADERS, display_name
from oodcalib.benchmark.reporting.figures import save_figure
from oodcalib.benchmark.reporting.grouping import metric_label, with_kind_averages
from oodcalib.errors import OodcalibError
from oodcalib.metrics import in_percent

#: Domains drawn, in order, with their legend labels.
GROUPS = {CLEAN: DOMAIN_HEADERS[CLEAN], ARTIFACT_AVG: ARTIFACT_AVG_HEADER, LGE: DOMAIN_HEADERS[LGE]}
#: Line style per calibrator, in order of appearance.
STYLES = ("-", "--", ":", "-.")


def sensitivity_points(results: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Mean per (method, setting, metric, domain) over the matched units, settings as floats.

    Example:
        >>> df = pd.DataFrame({"method": "uc", "setting": ["0.1", "0.1", "0.3"],
        ...     "fold": 0, "repeat": 0, "case": ["a", "b", "a"], "domain": "clean",
        ...     "metric": "ece", "value": [0.1, 0.3, 0.4]})
        >>> sensitivity_points(df, ["ece"])[["value", "mean"]].values.tolist()
        [[0.1, 0.2], [0.3, 0.4]]
    """
    subset = results[results["metric"].isin(metrics)].drop(columns="loss", errors="ignore")
    if subset.empty:
        raise OodcalibError(f"no values of {', '.join(metrics)} in the sweep's results")
    subset = with_kind_averages(subset.astype({"setting": str}))
    points = (
        subset.groupby(["method", "setting", "metric", "domain"], sort=False)["value"]
        .mean()
        .rename("mean")
        .reset_index()
    )
    points.insert(2, "value", points["setting"].astype(float))
    return points.sort_values(["method", "metric", "domain", "value"]).reset_index(drop=True)


def sensitivity_figure(
    results: pd.DataFrame,
    title: str,
    metrics: Sequence[str] = ("ece", "ace", "dice"),
    names: Mapping[str, str] | None = None,
) -> Figure:
    """One panel per metric: the metric against the hyperparameter's value."""
    metrics = [m for m in metrics if m in set(results["metric"])]
    points = sensitivity_points(results, metrics)
    fig = Figure(figsize=(3.6 * len(metrics) + 1.6, 3.4))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    colours = dict(zip(GROUPS, sns.color_palette("colorblind", len(GROUPS)), strict=True))
    methods = list(dict.fromkeys(points["method"]))
    for ax, metric in zip(axes, metrics, strict=True):
        scale = 100 if in_percent(metric) else 1
        for domain, label in GROUPS.items():
            for method, style in zip(methods, STYLES, strict=False):
                line = points[
                    (points["metric"] == metric)
                    & (points["domain"] == domain)
                    & (points["method"] == method)
                ]
                if len(line):
                    ax.plot(
                        line["value"],
                        scale * line["mean"],
                        style,
                        marker="o",
                        ms=4,
                        color=colours[domain],
                        label=f"{label}, {display_name(method, names)}",
                    )
        ax.set_xlabel(title)
        ax.set_ylabel(metric_label(metric) + (" (%)" if in_percent(metric) else ""))
        ax.grid(alpha=0.4)
    axes[-1].legend(fontsize="small", frameon=False, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.suptitle(f"Sensitivity to {title}: mean over (fold, repeat, scan)", fontsize="medium")
    return fig


def write_sensitivity_figure(
    results: pd.DataFrame, out_dir: Path, title: str, names: Mapping[str, str] | None = None
) -> Path:
    """Write ``out_dir/sensitivity.png``; return its path."""
    return save_figure(
        sensitivity_figure(results, title, names=names), Path(out_dir) / "sensitivity.png"
    )
