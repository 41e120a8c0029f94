"""Summary tables from the tidy per-case results."""

from __future__ import annotations

import pandas as pd

#: Order of domains in tables.
DOMAIN_ORDER = ["clean", "bias_field", "motion", "ghosting", "spike", "lge"]
#: Order of methods in tables (unknown ones follow alphabetically).
METHOD_ORDER = ["uc", "alea", "ts", "lts", "proposed"]


def _ordered(values: list[str], order: list[str]) -> list[str]:
    known = [v for v in order if v in values]
    return known + sorted(v for v in values if v not in order)


def summary_table(results: pd.DataFrame, metrics: tuple[str, ...] = ("ece", "sce", "dice")
                  ) -> pd.DataFrame:
    """Mean per (metric, method) x domain, with an ``artifact avg`` column.

    Per-scan values are averaged over folds, repeats and scans. ``artifact avg`` is the
    mean of the artifact domains' means (all domains except clean and lge).

    Example:
        >>> df = pd.DataFrame({"method": "uc", "fold": 0, "repeat": 0,
        ...     "domain": ["clean", "motion", "spike"], "case": "a", "metric": "ece",
        ...     "value": [0.1, 0.2, 0.4]})
        >>> row = summary_table(df, ("ece",)).round(3).to_dict("records")[0]
        >>> row["clean"], row["motion"], row["spike"], row["artifact avg"]
        (0.1, 0.2, 0.4, 0.3)
    """
    subset = results[results["metric"].isin(metrics)]
    table = subset.pivot_table(index=["metric", "method"], columns="domain", values="value",
                               aggfunc="mean")
    domains = _ordered(list(table.columns), DOMAIN_ORDER)
    table = table[domains]
    artifacts = [d for d in domains if d not in ("clean", "lge")]
    if artifacts:
        position = domains.index(artifacts[-1]) + 1
        table.insert(position, "artifact avg", table[artifacts].mean(axis=1))
    table.columns.name = None
    table = table.reset_index()
    table["metric"] = pd.Categorical(table["metric"], [m for m in metrics if m in
                                                        set(table["metric"])], ordered=True)
    table["method"] = pd.Categorical(
        table["method"], _ordered(list(table["method"].unique()), METHOD_ORDER), ordered=True
    )
    table = table.sort_values(["metric", "method"]).reset_index(drop=True)
    table["metric"] = table["metric"].astype(str)
    table["method"] = table["method"].astype(str)
    return table


def format_summary(table: pd.DataFrame) -> str:
    """Render a :func:`summary_table` in percent as fixed-width text."""
    shown = table.copy()
    numeric = [c for c in shown.columns if c not in ("metric", "method")]
    shown[numeric] = shown[numeric] * 100
    shown["metric"] = shown["metric"].str.upper() + " %"
    shown["method"] = shown["method"].str.upper()
    return shown.to_string(index=False, float_format=lambda v: f"{v:6.2f}")
