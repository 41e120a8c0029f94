"""Summary tables from the tidy per-case results: one row per (metric, method)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from oodcalib.benchmark.names import ARTIFACT_AVG
from oodcalib.benchmark.reporting.grouping import (
    as_entrants,
    ordered,
    ordered_domains,
    split_entrants,
    with_kind_averages,
)
from oodcalib.metrics import METRICS, headline_metrics, in_percent


def summary_table(
    results: pd.DataFrame,
    metrics: Sequence[str] | None = None,
    names: Mapping[str, str] | None = None,
    domains: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Aggregate per (metric, method) x domain, with a column per kind's average.

    In a loss grid the rows are (metric, loss, method), with a ``loss`` column
    (:func:`~oodcalib.benchmark.reporting.grouping.as_entrants`).

    Per-scan values are aggregated over folds, repeats and scans with the metric's
    ``aggregate`` (the mean for every built-in metric). ``artifact avg`` (and each other
    kind's average) aggregates the per-unit means over the kind's domains
    (:func:`~oodcalib.benchmark.reporting.grouping.with_kind_averages`).

    Args:
        results: Tidy results (columns of ``results.csv``).
        metrics: Metrics to show, in order (default: the registry's headline metrics).
        names: ``{method: display name}`` giving the row order.
        domains: ``{domain: header}`` giving the column order.
        kinds: ``{domain: kind}`` (default: every domain but clean and LGE an artifact).

    Example:
        >>> df = pd.DataFrame({"method": "uc", "fold": 0, "repeat": 0,
        ...     "domain": ["clean", "motion", "spike"], "case": "a", "metric": "ece",
        ...     "value": [0.1, 0.2, 0.4]})
        >>> row = summary_table(df, ("ece",)).round(3).to_dict("records")[0]
        >>> row["clean"], row["motion"], row["spike"], row["artifact avg"]
        (0.1, 0.2, 0.4, 0.3)
    """
    metrics = list(metrics or headline_metrics())
    results = as_entrants(results)
    subset = with_kind_averages(results[results["metric"].isin(metrics)], kinds)
    parts = []
    for metric, block in subset.groupby("metric", sort=False):
        how = METRICS[metric].aggregate if metric in METRICS else "mean"
        parts.append(
            block.pivot_table(
                index=["metric", "method"], columns="domain", values="value", aggfunc=how
            )
        )
    table = pd.concat(parts)
    table = table[ordered_domains(list(table.columns), domains, kinds)]
    table.columns.name = None
    table = table.reset_index()
    present = set(table["metric"])
    table["metric"] = pd.Categorical(
        table["metric"], [m for m in metrics if m in present], ordered=True
    )
    table["method"] = pd.Categorical(
        table["method"], ordered(list(results["method"]), names), ordered=True
    )
    table = table.sort_values(["metric", "method"]).reset_index(drop=True)
    table["metric"] = table["metric"].astype(str)
    table["method"] = table["method"].astype(str)
    return split_entrants(table)


def format_summary(table: pd.DataFrame) -> str:
    """Render a :func:`summary_table` as fixed-width text, in percent where the metric is."""
    shown = table.copy()
    numeric = [c for c in shown.columns if c not in ("metric", "loss", "method")]
    percent = shown["metric"].map(in_percent).astype(bool)
    shown.loc[percent, numeric] = shown.loc[percent, numeric] * 100
    shown["metric"] = shown["metric"].str.upper() + percent.map({True: " %", False: ""})
    shown["method"] = shown["method"].str.upper()
    if "loss" in shown.columns:
        shown["loss"] = shown["loss"].str.upper()
    return shown.to_string(index=False, float_format=lambda v: f"{v:6.2f}")


__all__ = ["ARTIFACT_AVG", "format_summary", "summary_table"]
