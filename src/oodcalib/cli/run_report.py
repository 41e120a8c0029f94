"""What ``oodcalib run`` prints around its work.

Before: :func:`announce_cost`, the predicted time of the cells still to train. After:
:func:`report`, the summary, the leaderboard (when LTS ran), the convergence of the
networks and the stage timings; ``evaluate`` and ``ablate`` print the same after theirs.
"""

from __future__ import annotations

from pathlib import Path

import typer

from oodcalib.cli.options import _names


def announce_cost(config, run_dir: Path, min_steps: int = 2000) -> None:
    """Print the predicted time of the cells still to train, if it is long.

    A run that resumes predicts from its finished cells' measured ``timings.json`` (every
    stage included; their median, so a cell slowed by other work on the machine does not
    inflate it). A fresh one uses ``oodcalib speed``'s micro-benchmark of the network
    (best of 3 calls), and says so when the machine is busy, since a loaded CPU slows such
    short timings far more than a long run. Nothing is measured for runs of fewer than
    ``min_steps`` pending training steps.
    """
    import json
    import os
    import statistics

    from oodcalib.benchmark.protocol.fold import cell_dir
    from oodcalib.benchmark.protocol.hyperparameters import run_losses

    losses = run_losses(config)
    cells = [
        cell_dir(config, run_dir, k, loss) for loss in losses for k in range(config.data.n_folds)
    ]
    pending = [c for c in cells if not (c / "checkpoint.pt").exists()]
    if len(pending) * config.train.iterations < min_steps:
        return
    finished = [c / "timings.json" for c in cells if (c / "timings.json").is_file()]
    if finished:
        seconds = [sum(json.loads(p.read_text()).values()) for p in finished]
        per_cell = statistics.median(seconds) / 60
        typer.echo(
            f"{len(pending)} of {len(cells)} (loss, fold) cells to train; predicted from the "
            f"{len(finished)} finished cells (median {per_cell:.1f} min a cell, every stage): "
            f"{len(pending) * per_cell:.0f} min"
        )
        return
    from oodcalib.benchmark.protocol.cost_model import (
        measured_rates,
        predict_seconds,
        source_counts,
    )

    stages = predict_seconds(config, measured_rates(config, repeats=3), **source_counts(config))
    minutes = {k: v / 60 * len(pending) / len(cells) for k, v in stages.items()}
    detail = ", ".join(f"{k} {v:.0f}" for k, v in minutes.items() if v >= 0.5)
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    busy = (
        f"; the machine is busy (load {load:.1f} on {cores} cores), so this may be far too long"
        if load > cores
        else ""
    )
    typer.echo(
        f"{len(pending)} of {len(cells)} (loss, fold) cells to train; predicted "
        f"segmentation-network time on this machine: {sum(minutes.values()):.0f} min "
        f"({detail}); calibrator nets, metrics and I/O come on top "
        f"(`oodcalib speed` explains the estimate){busy}"
    )


def report(run_dir: Path, results, seconds: float, command: str = "") -> None:
    """Write and print the summary, the leaderboard (when LTS ran) and the stage timings.

    ``command`` names a command other than ``run`` whose time the stage table now holds
    (``evaluate`` adds the scoring of its new domains to the run's stages).
    """
    from oodcalib.atomic import write_csv
    from oodcalib.benchmark.reporting.summary import format_summary, summary_table
    from oodcalib.metrics import METRICS, headline_metrics

    names = _names(run_dir)
    table = summary_table(results, list(METRICS), **names)  # every metric in the CSV
    write_csv(run_dir / "summary.csv", table)
    typer.echo(format_summary(table[table["metric"].isin(headline_metrics())]))
    typer.echo(f"\n{len(results)} per-case rows in {run_dir / 'results.csv'} ({seconds:.0f} s)")
    from oodcalib.cli.report import default_reference

    reference = default_reference(results)
    if reference:
        from oodcalib.benchmark.names import display_name
        from oodcalib.benchmark.reporting.leaderboard import write_leaderboard

        _, md_path = write_leaderboard(run_dir, reference, **names)
        typer.echo(f"\n{md_path.read_text(encoding='utf-8')}")
        typer.echo(
            f"leaderboard (significance against "
            f"{display_name(reference, names['names'])}): {md_path.with_suffix('.csv')}"
        )
    from oodcalib.benchmark.reporting.convergence import TAIL, TOLERANCE, convergence_table

    convergence = convergence_table(run_dir)
    if not convergence.empty:
        write_csv(run_dir / "convergence.csv", convergence)
        typer.echo(
            f"\n{int(convergence['converged'].sum())} of {len(convergence)} networks converged "
            f"(validation Dice gained < {TOLERANCE} over the last {TAIL * 100:.0f} % of "
            f"iterations; {run_dir / 'convergence.csv'})"
        )
    from oodcalib.benchmark.reporting.timings import (
        format_timings,
        timings_table,
        wall_time_sentence,
    )

    added = (
        f"; it includes this {command}'s {seconds / 60:.2f} min, added to the stages it ran "
        "(every command that computes on the run adds its time there)"
        if command
        else ""
    )
    typer.echo(
        f"\nminutes per stage ({run_dir / 'timings.json'}{added}):\n"
        f"{format_timings(timings_table(run_dir))}"
    )
    wall = wall_time_sentence(run_dir)
    if wall is not None:
        typer.echo(
            f"wall time of the run: {wall} "
            "(loading the data, every cell and the report; timings.json, key 'run')"
        )
