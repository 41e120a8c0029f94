"""Leaderboard: significance tables as CSV and as Markdown like the paper's Table 1.

The statistics come from :mod:`~oodcalib.benchmark.reporting.statistics`.

Files written by :func:`write_leaderboard` (stem ``leaderboard`` by default)::

    leaderboard.csv        one row per method; columns metric/domain/stat, plain fractions
    leaderboard.md         the paper-style table in percent with significance marks
    leaderboard_stats.csv  the tidy frame of statistics.compare_to_reference
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from oodcalib.atomic import write_csv, write_text
from oodcalib.benchmark.layout import ENTRANT_SEP
from oodcalib.benchmark.names import ARTIFACT_AVG, average_header, display_name, domain_headers
from oodcalib.benchmark.reporting.dataset_metrics import DATASET_METRICS, with_dataset_metrics
from oodcalib.benchmark.reporting.grouping import (
    kind_members,
    metric_label,
    ordered,
    ordered_domains,
    reference_entrant,
    split_entrants,
)
from oodcalib.benchmark.reporting.significance import check_options
from oodcalib.benchmark.reporting.statistics import compare_to_reference, compare_within_losses
from oodcalib.errors import DataError, OodcalibError, UnknownNameError
from oodcalib.metrics import headline_metrics, in_percent

#: Wide-CSV statistic name -> column of the tidy statistics frame.
FIELDS = {
    "n": "n",
    "mean": "mean",
    "std": "std",
    "diff": "diff",
    "ci_low": "ci_low",
    "ci_high": "ci_high",
    "p": "p_value",
    "p_adj": "p_adjusted",
    "mark": "mark",
}
#: Markdown column headers of the domains (the paper's Table 1).
TEST_NAMES = {"wilcoxon": "two-sided Wilcoxon signed-rank test", "ttest": "two-sided paired t-test"}


def _check(stats: pd.DataFrame) -> None:
    needed = {"metric", "domain", "method", "n", "mean", "diff", "p_value", "mark"}
    missing = sorted(needed - set(stats.columns))
    if missing:
        raise OodcalibError(
            f"statistics frame lacks column(s) {', '.join(missing)}; "
            "build it with statistics.compare_to_reference"
        )


def leaderboard_table(
    stats: pd.DataFrame,
    names: Mapping[str, str] | None = None,
    domains: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Wide table: one row per method (in ``names`` order), columns ``metric/domain/stat``.

    In a loss grid a row is an entrant ``loss/method``; :func:`write_leaderboard` splits
    it into ``loss`` and ``method`` columns.

    ``stat`` is each key of :data:`FIELDS` (n, mean, std, diff, ci_low, ci_high, p,
    p_adj, mark); domains follow :func:`~oodcalib.benchmark.reporting.statistics.ordered_domains`.
    Values stay plain fractions (ECE 0.0312 = 3.12 %), as in ``results.csv``.

    Example:
        >>> stats = pd.DataFrame({"metric": "ece", "domain": "clean", "method": ["uc", "lts"],
        ...     "n": 2, "mean": [0.2, 0.1], "std": 0.0, "diff": [0.1, 0.0], "ci_low": 0.1,
        ...     "ci_high": 0.1, "p_value": [0.5, None], "p_adjusted": [0.5, None],
        ...     "mark": ["∗", ""]})
        >>> table = leaderboard_table(stats)
        >>> table["method"].tolist(), table["ece/clean/mean"].tolist()
        (['uc', 'lts'], [0.2, 0.1])
    """
    _check(stats)
    methods = ordered(list(stats["method"]), names)
    columns: dict[str, object] = {
        "method": methods,
        "name": [display_name(m, names) for m in methods],
    }
    for metric in stats["metric"].unique():
        subset = stats[stats["metric"] == metric]
        for domain in ordered_domains(list(subset["domain"].unique()), domains, kinds):
            block = subset[subset["domain"] == domain].set_index("method").reindex(methods)
            for stat, source in FIELDS.items():
                if source in block.columns:
                    columns[f"{metric}/{domain}/{stat}"] = block[source].to_numpy()
    return pd.DataFrame(columns)


def _identical(block: pd.DataFrame, reference: str) -> bool:
    """True if every method's paired differences to the reference are exactly zero."""
    others = block[block["method"] != reference]
    columns = [c for c in ("diff", "ci_low", "ci_high") if c in others.columns]
    return bool((others[columns].abs().fillna(0.0).to_numpy() < 1e-12).all())


def _cell(rows: pd.DataFrame, domain: str, marked: bool, scale: float = 100) -> str:
    if domain not in rows.index or pd.isna(rows.at[domain, "mean"]):
        return "–"
    mark = rows.at[domain, "mark"] if marked and isinstance(rows.at[domain, "mark"], str) else ""
    digits = 2 if scale == 100 else 3  # percent, or NLL (nats) and HD95 (px) as they are
    return f"{scale * rows.at[domain, 'mean']:.{digits}f}{mark}"


def _setting(stats: pd.DataFrame, column: str, default: str) -> str:
    if column in stats.columns and stats[column].notna().any():
        return str(stats[column].dropna().iloc[0])
    return default


def markdown_table(
    stats: pd.DataFrame,
    reference: str | None = "lts",
    names: Mapping[str, str] | None = None,
    domains: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
) -> str:
    r"""Markdown table like the paper's Table 1, values in percent with marks.

    Rows ``"<METRIC> <Method>"`` (methods and display names from ``names``, domains and
    headers from ``domains``, metric labels from the metric registry); a Dice metric
    whose values are identical for every method (post-hoc methods keep the argmax) is
    one row ``"Dice seg. net"``. Cells are ``f"{100 * mean:.2f}"`` plus the mark; the
    reference's cells and the single Dice row carry none. A footnote names the test,
    correction, reference, marks and ``n``. ``reference=None`` reads the references from
    ``stats``: one per loss, as
    :func:`~oodcalib.benchmark.reporting.statistics.compare_within_losses` computes them.

    Example:
        >>> stats = pd.DataFrame({"metric": "ece", "domain": "clean", "method": ["uc", "lts"],
        ...     "n": 9, "mean": [0.1029, 0.0322], "diff": [0.07, 0.0], "p_value": [0.001, None],
        ...     "mark": ["†", ""]})
        >>> print(markdown_table(stats, names={"uc": "UC", "lts": "LTS"}).splitlines()[2:4])
        ['| ECE UC | 10.29† |', '| ECE LTS | 3.22 |']
    """
    _check(stats)
    per_loss = reference is None
    computed = set(stats["reference"].dropna()) if "reference" in stats.columns else set()
    references = computed if per_loss else {reference}
    if per_loss and not references:
        raise OodcalibError("statistics name no reference; build them with compare_within_losses")
    if computed and reference not in computed | {None}:
        raise OodcalibError(
            f"statistics were computed against "
            f"{_setting(stats, 'reference', '?')!r}, not {reference!r}"
        )
    columns = ordered_domains(list(stats["domain"].unique()), domains, kinds)
    headers = domain_headers(domains, columns)
    methods = ordered(list(stats["method"]), names)
    lines = [
        "| | " + " | ".join(_escape(display_name(d, headers)) for d in columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for metric in stats["metric"].unique():
        block = stats[stats["metric"] == metric]
        single = not per_loss and metric.startswith("dice") and _identical(block, reference)
        shown = [reference if reference in methods else methods[0]] if single else methods
        for method in shown:
            rows = block[block["method"] == method].set_index("domain")
            marked = not single and method not in references
            scale = 100 if in_percent(metric) else 1
            cells = [_cell(rows, d, marked, scale) for d in columns]
            name = "seg. net" if single else display_name(method, names)
            label = _escape(f"{metric_label(metric)} {name}")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    dataset = stats["metric"].isin(list(DATASET_METRICS))
    n_text = _range(stats.loc[~dataset, "n"]) if (~dataset).any() else "0"
    fits = (
        f" Dataset-level (micro) rows: mean over n = {_range(stats.loc[dataset, 'n'])} "
        "calibrator fits (fold, repeat), bins pooled over each fit's scans, marks from "
        "the same test over fits."
        if dataset.any()
        else ""
    )
    test = _setting(stats, "test", "?")
    correction = _setting(stats, "correction", "none")
    members = kind_members([d for d in columns if d in set(stats["domain"])], kinds)
    average = "".join(
        f"; {average_header(name)} = "
        + ("per-unit mean over " if name == ARTIFACT_AVG else "over the scans of ")
        + ", ".join(m)
        for name, m in members.items()
        if name in columns
    )
    raw = [metric_label(m) for m in stats["metric"].unique() if not in_percent(m)]
    units = f" ({', '.join(raw)} as they are)" if raw else ""
    against = (
        display_name(next(iter(references)).split(ENTRANT_SEP, 1)[-1], names) + " on the same loss"
        if per_loss
        else display_name(str(reference), names)
    )
    lines += [
        "",
        f"Values in %{units}, mean over n = {n_text} matched units (fold, repeat, "
        f"case) per domain{average}. "
        f"Marks: {TEST_NAMES.get(test, test)} of each method against "
        f"{against} (unmarked), "
        + (
            "Holm-corrected within each metric and domain"
            if correction == "holm"
            else "no multiple-comparison correction"
        )
        + ": † p < 0.01, ‡ p < 0.05, ∗ p ≥ 0.05."
        + fits,
    ]
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    r"""A table cell's text with ``|`` escaped, so a header holding one keeps its column.

    Example:
        >>> print(_escape("GE | 1.5T"))
        GE \| 1.5T
    """
    return text.replace("|", r"\|")


def _range(counts: pd.Series) -> str:
    values = sorted(set(counts.astype(int)))
    return str(values[0]) if len(values) == 1 else f"{values[0]}–{values[-1]}"


def output_paths(csv_path: Path) -> tuple[Path, Path, Path]:
    """The wide CSV, Markdown and tidy-statistics paths for a leaderboard CSV path."""
    csv_path = Path(csv_path)
    return (csv_path, csv_path.with_suffix(".md"), csv_path.with_name(f"{csv_path.stem}_stats.csv"))


def write_leaderboard(
    run_dir: Path,
    reference: str | None = None,
    metrics: Sequence[str] | None = None,
    test: str = "wilcoxon",
    correction: str | None = None,
    out: Path | None = None,
    names: Mapping[str, str] | None = None,
    domains: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
    per_loss: bool = False,
) -> tuple[Path, Path]:
    """Read ``run_dir/results.csv``; write the leaderboard CSV, Markdown and statistics.

    Args:
        run_dir: Run directory holding ``results.csv``.
        reference: Entrant every other one is compared with: a method (default LTS), or
            in a loss grid ``loss/method`` (default ``dice_ce/uc``; a bare method name
            means it on ``dice_ce``), see
            :func:`~oodcalib.benchmark.reporting.grouping.reference_entrant`.
        metrics: Metrics to compare (default: the registry's headline metrics).
        test: ``"wilcoxon"`` or ``"ttest"``.
        correction: ``None`` or ``"holm"``.
        out: CSV path; default ``run_dir/leaderboard.csv``. The Markdown goes next to
            it with suffix ``.md`` and the tidy statistics to ``<stem>_stats.csv``.
        names: ``{method: display name}``, in row order.
        domains: ``{domain: header}``, in column order.
        kinds: ``{domain: kind}``: one average per kind (default: the artifacts').
        per_loss: In a loss grid, test each loss's methods against ``reference`` (a
            method, default UC) on the same loss instead of one entrant for all.

    Returns:
        The CSV and Markdown paths (see :func:`output_paths` for the third file).

    Raises:
        DataError: ``results.csv`` missing, unreadable or inconsistent.
        UnknownNameError: Unknown test or correction.
    """
    check_options(test, correction)
    source = Path(run_dir) / "results.csv"
    if not source.is_file():
        raise DataError(
            source,
            "not found; run `oodcalib run` first (or `oodcalib summary "
            "RUN_DIR` to collect the per-case files of a partial run)",
        )
    try:
        results = with_dataset_metrics(pd.read_csv(source, dtype={"case": str}), run_dir)
        default = [
            *headline_metrics(),
            *(["micro_ace"] if "micro_ace" in set(results["metric"]) else []),
        ]
        options = {"metrics": tuple(metrics or default), "test": test, "correction": correction}
        options |= {"names": names, "domains": domains, "kinds": kinds}
        if per_loss:
            stats = compare_within_losses(results, reference or "uc", **options)
            reference = None
        else:
            reference = reference_entrant(results, reference)
            stats = compare_to_reference(results, reference, **options)
    except UnknownNameError:
        raise
    except (OodcalibError, ValueError) as error:
        raise DataError(source, str(error)) from error
    csv_path, md_path, stats_path = output_paths(
        Path(out) if out else Path(run_dir) / "leaderboard.csv"
    )
    write_csv(csv_path, split_entrants(leaderboard_table(stats, names, domains, kinds)))
    write_text(md_path, markdown_table(stats, reference, names, domains, kinds))
    write_csv(stats_path, split_entrants(stats))
    return csv_path, md_path


__all__ = ["leaderboard_table", "markdown_table", "output_paths", "write_leaderboard"]
