"""Tables of an ablation (paper Table 2) from its tidy results.

:func:`oodcalib.benchmark.protocol.ablation.run_ablation` scores the settings; this
module aggregates them per (method, setting) and writes ``table.csv`` and ``table.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from oodcalib.atomic import write_csv, write_text
from oodcalib.benchmark.layout import CLEAN, LGE
from oodcalib.benchmark.names import ARTIFACT_AVG, display_name
from oodcalib.benchmark.reporting.grouping import as_entrants, metric_label, with_kind_averages
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


def ablation_markdown(
    table: pd.DataFrame,
    kind: str,
    names: Mapping[str, str] | None = None,
    metrics: Sequence[str] = ("ece", "sce"),
) -> str:
    """Table-2 layout: one row per setting, values in %.

    ``kind`` is ``num_aug``, ``components``, or the title of a loss sweep's settings
    (``nacl alpha``).

    Columns: the artifact average of each of ``metrics``, then clean and LGE of the first.
    """
    title = {"num_aug": "N_A", "components": "components"}.get(kind, kind)
    columns = [(ARTIFACT_AVG, m) for m in metrics] + [(CLEAN, metrics[0]), (LGE, metrics[0])]
    header = " | ".join(
        f"{'artifact avg' if d == ARTIFACT_AVG else 'LGE' if d == LGE else d} {metric_label(m)}"
        for d, m in columns
    )
    lines = [f"| method | {title} | {header} |", "|---" * (len(columns) + 2) + "|"]
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
        lines.append(f"| {display_name(method, names)} | {setting} | {shown} |")
    return "\n".join(lines)


def write_ablation_tables(
    results: pd.DataFrame, out: Path, kind: str, names: Mapping[str, str] | None = None
) -> tuple[Path, Path]:
    """Write ``out/table.csv`` and ``out/table.md``; return their paths."""
    table = ablation_table(results)
    csv_path = write_csv(Path(out) / "table.csv", table)
    md_path = write_text(Path(out) / "table.md", ablation_markdown(table, kind, names) + "\n")
    return csv_path, md_path
