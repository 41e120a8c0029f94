"""``oodcalib leaderboard``: paired tests of every entrant against a reference."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oodcalib.cli.options import MoreOpt, _fail, _names, _writable


def leaderboard(
    run_dir: Path,
    reference: Annotated[
        str | None,
        typer.Option(
            help="Entrant the others are tested against: a method (default lts) or, in a loss "
            "grid, LOSS/METHOD (default dice_ce/uc)."
        ),
    ] = None,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            help="Metric(s): repeat the option or comma-separate; the headline metrics "
            "(ece, sce, dice) if unset."
        ),
    ] = None,
    test: Annotated[str, typer.Option(help="Paired test: wilcoxon or ttest.")] = "wilcoxon",
    holm: Annotated[bool, typer.Option(help="Holm-correct within each metric and domain.")] = False,
    per_loss: Annotated[
        bool,
        typer.Option(
            help="In a loss grid, test each loss's methods against --reference (a method, "
            "default uc) on the same loss: does TS help or hurt that loss?"
        ),
    ] = False,
    out: Annotated[Path | None, typer.Option(help="CSV path (RUN_DIR/leaderboard.csv).")] = None,
    more: MoreOpt = None,
) -> None:
    """Test every method against a reference; write the leaderboard CSV and Markdown.

    In a loss grid the reference is one (loss, method) entrant, Dice+CE with UC by default;
    ``--per-loss`` tests each loss's methods against the reference method on that loss.
    """
    from oodcalib.benchmark.reporting.leaderboard import output_paths, write_leaderboard
    from oodcalib.errors import OodcalibError
    from oodcalib.run_lock import run_lock

    if more:
        if not metric:
            _fail(ValueError(f"unexpected arguments {more}; metric names follow --metric"))
        metric = [*metric, *more]

    metrics = [m.strip() for value in metric or [] for m in value.split(",") if m.strip()]
    try:
        _writable(out or Path(run_dir) / "leaderboard.csv", "leaderboard", file=True)
        from oodcalib.benchmark.layout import fold_files

        # one writer per run directory; a read-only one (with --out elsewhere) is only read
        with run_lock(run_dir, required=False, create=False) as lock:
            if fold_files(run_dir, "per_case/*.csv"):  # results.csv rebuilt from the records
                from oodcalib.benchmark.protocol.runner import collect_results

                collect_results(run_dir, write=lock is not None)
            csv_path, md_path = write_leaderboard(
                run_dir,
                reference,
                metrics or None,
                test,
                "holm" if holm else None,
                out,
                **_names(run_dir),
                per_loss=per_loss,
            )
    except OodcalibError as error:
        _fail(error)
    typer.echo(md_path.read_text(encoding="utf-8"))
    for path in output_paths(csv_path):
        typer.echo(f"wrote {path}")
