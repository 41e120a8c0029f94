"""``oodcalib claims``: the paper's Table 1 findings, held or not, on a finished run."""

from __future__ import annotations

from pathlib import Path

import typer

from oodcalib.cli.options import _fail, _names, _writable


def claims(run_dir: Path) -> None:
    """Check the paper's Table 1 claims on a run; print and write claims.md.

    Reads the run's ``summary.csv`` (written by ``run``, ``rescore`` and ``evaluate``);
    a run without one is summarised from its per-case results.
    """
    import pandas as pd

    from oodcalib.atomic import atomic_write
    from oodcalib.benchmark.protocol.runner import collect_results
    from oodcalib.benchmark.reporting.paper_claims import (
        COLUMNS,
        PAPER_METHODS,
        PAPER_TABLE1,
        claims_markdown,
        claims_table,
    )
    from oodcalib.benchmark.reporting.summary import summary_table
    from oodcalib.errors import OodcalibError

    try:
        path = _writable(Path(run_dir) / "claims.md", "claims table", file=True)
        stored = Path(run_dir) / "summary.csv"
        if stored.is_file():
            summary = pd.read_csv(stored)
        else:
            results = collect_results(run_dir)
            summary = summary_table(results, list(PAPER_TABLE1), **_names(run_dir))
        metrics = set(summary.get("metric", []))
        missing = sorted(set(PAPER_METHODS) - set(summary.get("method", []))) + sorted(
            (set(PAPER_TABLE1) - metrics) | (set(COLUMNS) - set(summary.columns))
        )
        if missing:
            raise OodcalibError(
                f"{run_dir}: the paper's Table 1 needs {', '.join(missing)}, which the run "
                "lacks (run every method of the paper on every Table 1 domain)"
            )
        table = claims_markdown(claims_table(summary))
        atomic_write(path, lambda f: f.write(table.encode()))
    except OodcalibError as error:
        _fail(error)
    typer.echo(table)
    typer.echo(f"wrote {path}")
