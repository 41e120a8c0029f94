"""Tables of an ablation (paper Table 2) from its tidy results.

:func:`oodcalib.benchmark.protocol.ablation.run_ablation` scores the settings; this
module aggregates them per (method, setting) and writes ``table.csv`` and ``table.md``.
Where the settings are numbers (N_A, a loss weight), :func:`step_tests` says whether each
step changes the artifact-average ECE: the paired difference from the previous setting and
its Wilcoxon p-value over the matched units (fold, repeat, scan), written as
``steps.csv`` and as the Markdown table's last column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from oodcalib.atomic import write_csv, write_text
from oodcalib.benchmark.layout import CLEAN, LGE
from oodcalib.benchmark.names import ARTIFACT_AVG, display_name
from oodcalib.benchmark.reporting.grouping import as_entrants, metric_label, with_kind_averages
from oodcalib.benchmark.reporting.significance import paired_test
from oodcalib.metrics import headline_metrics, in_percent


def ablation_table(results: pd.DataFrame, metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean of each metric per (method, setting) and domain, with ``artifact avg``.

    The artifact average is taken per matched unit (fold, repeat, scan), then averaged
    (:func:`~oodcalib.benchmark.reporting.grouping.with_kind_averages`). Numeric settings
    sort numerically.
    """
    frame = as_entrants(results)  # in a loss grid, a row per (loss, method) and setting
    frame = frame[frame["metric"].isin(list(metrics or headline_metrics()))]
    frame = with_kind_averages(frame.astype({"setting": str}).drop(columns="loss", errors="ignore"))
    table = frame.pivot_table(
        index=["method", "setting", "metric"], columns="domain", values="value", sort=False
    )
    table.columns.name = None
    table = table.reset_index()
    order = table["setting"].map(_setting_order)
    return (
        table.assign(_order=order)
        .sort_values(["method", "_order"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def _setting_order(value: str) -> tuple[int, float, str]:
    """Numeric settings first, in numeric order (``5 < 10``, ``0.05 < 0.1``), then the rest."""
    try:
        return 0, float(value), ""
    except ValueError:
        return 1, 0.0, str(value)


def step_tests(results: pd.DataFrame, metric: str = "ece") -> pd.DataFrame:
    """Each numeric setting against the one before it, per method, on the artifact average.

    Returns one row per (method, setting) after a method's first: ``previous``, ``diff``
    (mean of the paired differences, setting minus previous, in the metric's unit) and
    ``p`` (two-sided Wilcoxon signed-rank test over the units present in both,
    :func:`~oodcalib.benchmark.reporting.significance.paired_test`). Empty when a setting
    is not a number (the component ablation) or the run has no artifact domain.
    """
    columns = ["method", "setting", "previous", "diff", "p"]
    frame = as_entrants(results)
    frame = frame[frame["metric"] == metric].astype({"setting": str})
    settings = frame["setting"].unique()
    if any(_setting_order(s)[0] for s in settings):
        return pd.DataFrame(columns=columns)
    frame = with_kind_averages(frame.drop(columns="loss", errors="ignore"))
    frame = frame[frame["domain"] == ARTIFACT_AVG]
    units = [c for c in frame.columns if c not in {"method", "setting", "domain", "value"}]
    rows = []
    for method, part in frame.groupby("method", sort=False):
        wide = part.pivot_table(index=units, columns="setting", values="value")
        order = sorted(wide.columns, key=_setting_order)
        for previous, setting in zip(order, order[1:], strict=False):
            pair = wide[[previous, setting]].dropna()
            if pair.empty:
                continue
            diff = pair[setting] - pair[previous]
            p = paired_test(pair[setting].to_numpy(), pair[previous].to_numpy())
            rows.append((method, setting, previous, float(diff.mean()), p))
    return pd.DataFrame(rows, columns=columns)


def ablation_markdown(
    table: pd.DataFrame,
    kind: str,
    names: Mapping[str, str] | None = None,
    metrics: Sequence[str] = ("ece", "sce"),
    steps: pd.DataFrame | None = None,
) -> str:
    """Table-2 layout: one row per setting, values in %.

    ``kind`` is ``num_aug``, ``components``, or the title of a loss sweep's settings
    (``nacl alpha``).

    Columns: the artifact average of each of ``metrics``, then clean and LGE of the first;
    with ``steps`` (:func:`step_tests` of the first metric), the change of its artifact
    average from the previous setting and the p-value of that change.
    """
    title = {"num_aug": "N_A", "components": "components"}.get(kind, kind)
    columns = [(ARTIFACT_AVG, m) for m in metrics] + [(CLEAN, metrics[0]), (LGE, metrics[0])]
    header = " | ".join(
        f"{'artifact avg' if d == ARTIFACT_AVG else 'LGE' if d == LGE else d} {metric_label(m)}"
        for d, m in columns
    )
    stepped = steps is not None and not steps.empty
    if stepped:
        header += f" | Δ artifact avg {metric_label(metrics[0])} from previous (p)"
    lines = [f"| method | {title} | {header} |", "|---" * (len(columns) + 2 + stepped) + "|"]
    by_step = steps.set_index(["method", "setting"]) if stepped else pd.DataFrame()
    wide = table.pivot_table(
        index=["method", "setting"],
        columns="metric",
        values=[d for d in (ARTIFACT_AVG, CLEAN, LGE) if d in table],
        sort=False,
    )
    for (method, setting), row in wide.iterrows():
        shown = " | ".join(
            f"{row.get(c, float('nan')) * (100 if in_percent(c[1]) else 1):.2f}" for c in columns
        )
        if stepped:
            step = by_step.loc[(method, setting)] if (method, setting) in by_step.index else None
            scale = 100 if in_percent(metrics[0]) else 1
            shown += (
                " | —"
                if step is None
                else f" | {step['diff'] * scale:+.2f} (p {_p_text(step['p'])})"
            )
        lines.append(f"| {display_name(method, names)} | {setting} | {shown} |")
    return "\n".join(lines)


def _p_text(p: float) -> str:
    """``0.56``, ``0.023``, ``< 0.001``."""
    return "< 0.001" if p < 0.001 else f"{p:.2g}" if p < 0.1 else f"{p:.2f}"


def write_ablation_tables(
    results: pd.DataFrame, out: Path, kind: str, names: Mapping[str, str] | None = None
) -> tuple[Path, Path]:
    """Write ``out/table.csv`` and ``out/table.md``; return their paths.

    Where the settings are numbers, :func:`step_tests` goes to ``out/steps.csv`` and to
    the Markdown table's last column.
    """
    table, steps = ablation_table(results), step_tests(results)
    csv_path = write_csv(Path(out) / "table.csv", table)
    if not steps.empty:
        write_csv(Path(out) / "steps.csv", steps)
    text = ablation_markdown(table, kind, names, steps=steps)
    md_path = write_text(Path(out) / "table.md", text + "\n")
    return csv_path, md_path
