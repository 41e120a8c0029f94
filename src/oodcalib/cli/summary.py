"""``oodcalib summary``: the summary table of a finished or partial run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oodcalib.cli.options import _fail, _names


def summary(
    run_dir: Path,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            help="Metric(s): repeat the option or comma-separate (e.g. ace,hd95,micro_ace); "
            "the headline metrics (ece, sce, dice) if unset."
        ),
    ] = None,
) -> None:
    """Print the summary table of a finished (or partial) run directory."""
    from oodcalib.benchmark.protocol.runner import collect_results
    from oodcalib.benchmark.reporting.dataset_metrics import with_dataset_metrics
    from oodcalib.benchmark.reporting.summary import format_summary, summary_table
    from oodcalib.errors import OodcalibError
    from oodcalib.run_lock import unless_locked

    metrics = [m.strip() for value in metric or [] for m in value.split(",") if m.strip()]
    try:
        with unless_locked(run_dir) as free:  # a running run's files are only read
            names = _names(run_dir)
            results = with_dataset_metrics(collect_results(run_dir, write=free), run_dir)
        absent = sorted(set(metrics) - set(results["metric"]))
        if absent:
            raise OodcalibError(
                f"metric(s) {', '.join(absent)} not in {run_dir}; present: "
                f"{', '.join(sorted(results['metric'].unique()))}"
            )
        typer.echo(format_summary(summary_table(results, metrics or None, **names)))
    except OodcalibError as error:
        _fail(error)
