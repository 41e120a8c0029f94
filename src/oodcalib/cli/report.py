"""``oodcalib report RUN``: one self-contained ``report.html`` of a run, to open and share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oodcalib.cli.options import _fail, _names, _writable


def report(
    run_dir: Path,
    out: Annotated[
        Path | None, typer.Option(help="HTML path (default RUN_DIR/report.html).")
    ] = None,
) -> None:
    """Write one self-contained HTML page of a run: leaderboard, figures, config, times.

    The page embeds the leaderboard with its significance marks, the summary and dataset
    reliability figures (drawn first if the run lacks them), the severity curves of a
    severity sweep, the configuration, the environment and the minutes per stage. It
    loads nothing from the network and runs no script.
    """
    from oodcalib.errors import OodcalibError

    try:
        path = write_run_report(run_dir, out)
    except (OodcalibError, ValueError) as error:
        _fail(error)
    typer.echo(f"report: {path}")


def default_reference(results) -> str | None:
    """The leaderboard's default reference of a run's results, or None if it has none.

    LTS (in a loss grid Dice+CE with UC) when the run has it and another entrant to test.
    """
    from oodcalib.benchmark.reporting.grouping import reference_entrant

    grid = results["loss"].nunique() > 1
    if not grid and ("lts" not in set(results["method"]) or results["method"].nunique() < 2):
        return None
    reference: str | None = reference_entrant(results)
    if grid and reference not in set(results["loss"] + "/" + results["method"]):
        return None  # the grid has no UC: no default reference
    return reference


def _results(run_dir: Path):
    """The run's tidy results: rebuilt from its per-case files, or its ``results.csv[.gz]``."""
    import pandas as pd

    from oodcalib.benchmark.layout import fold_files
    from oodcalib.errors import DataError

    if fold_files(run_dir, "per_case/*.csv"):
        from oodcalib.benchmark.protocol.runner import collect_results

        return collect_results(run_dir)
    for name in ("results.csv", "results.csv.gz"):
        if (run_dir / name).is_file():
            return pd.read_csv(run_dir / name, dtype={"case": str})
    raise DataError(run_dir / "results.csv", "not found; run `oodcalib run` on it first")


def write_run_report(run_dir: Path, out: Path | None = None) -> Path:
    """Draw the figures the run lacks, write its leaderboard if absent, then the page.

    Figures go to ``RUN_DIR/figures/`` like those of ``oodcalib figures``: the summary of
    the ECE (``summary_ece.png``) and, where the run kept its per-scan bins, the dataset
    reliability histograms of every method on every domain that is not an artifact (the
    clean scans, LGE, extra domains). ``oodcalib figures RUN_DIR --dataset-reliability``
    draws the artifacts' too, and the page then shows whatever is in the folder.
    """
    from oodcalib.benchmark.reporting.dataset_metrics import read_bins, with_dataset_metrics
    from oodcalib.benchmark.reporting.dataset_reliability import write_dataset_reliability
    from oodcalib.benchmark.reporting.html_report import REPORT_NAME, write_report
    from oodcalib.benchmark.reporting.leaderboard import write_leaderboard
    from oodcalib.benchmark.reporting.summary_figure import write_summary_figure
    from oodcalib.errors import DataError
    from oodcalib.segmentation.losses import LOSS_NAMES

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise DataError(run_dir, "not a run directory (no such folder)")
    figures = run_dir / "figures"
    _writable(figures, "figures folder")
    target = _writable(out or run_dir / REPORT_NAME, "report", file=True)
    names = _names(run_dir)
    results = _results(run_dir)
    reference = default_reference(results)
    if reference and not (run_dir / "leaderboard.md").is_file():
        if not (run_dir / "results.csv").is_file():
            raise DataError(run_dir / "results.csv", "not found; the leaderboard reads it")
        write_leaderboard(run_dir, reference, **names)
    summary = sorted(figures.glob("summary_*.png"))
    if not summary and "ece" in set(results["metric"]):
        everything = with_dataset_metrics(results, run_dir)
        summary = [write_summary_figure(everything, figures, "ece", **names, losses=LOSS_NAMES)]
    reliability = sorted(figures.glob("dataset_reliability_*.png"))
    if not reliability:
        bins = read_bins(run_dir)
        shown = [d for d in names["domains"] if names["kinds"].get(d) != "artifact"]
        if not bins.empty:
            reliability = write_dataset_reliability(bins, figures, shown, None, names["names"])
    return write_report(run_dir, summary, reliability, names["domains"], target)
