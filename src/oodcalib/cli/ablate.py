"""``oodcalib ablate``: Table 2's ablations, a loss weight's sweep and the severity sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oodcalib.cli.options import DeviceOpt, MoreOpt, _fail, _names, _select_device, _writable


def ablate(
    run_dir: Path,
    num_aug: Annotated[
        list[int] | None,
        typer.Option(
            "--num-aug",
            help="Test-time passes N_A to compare (repeat the option, or list them "
            "after one --num-aug).",
        ),
    ] = None,
    components: Annotated[
        bool,
        typer.Option(
            "--components", help="Switch Proposed's susceptibility / shape-prior inputs off."
        ),
    ] = False,
    loss_param: Annotated[
        list[str] | None,
        typer.Option(
            "--loss-param",
            help="Sweep one loss hyperparameter, LOSS.NAME=V1,V2,... (e.g. "
            "nacl.alpha=0.05,0.1,0.3): one net per (value, fold), calibrated and scored on "
            "every domain (repeatable).",
        ),
    ] = None,
    severity: Annotated[
        list[int] | None,
        typer.Option(
            "--severity",
            help="Corruption levels 1..5 to score every method on (repeat the "
            "option, or list them after one --severity): the calibration-under-shift curves.",
        ),
    ] = None,
    methods: Annotated[
        str | None,
        typer.Option(
            help="Calibrators: fitted on the nets of --loss-param (default uc,ts), or scored "
            "by --severity (default: all of the run's)."
        ),
    ] = None,
    device: DeviceOpt = "auto",
    more: MoreOpt = None,
) -> None:
    """Ablate a run: N_A, Proposed's inputs (Table 2), a loss weight, or the severity."""
    from oodcalib.benchmark.layout import ablation_dir
    from oodcalib.benchmark.protocol.ablation import run_ablation
    from oodcalib.benchmark.reporting.ablation_table import write_ablation_tables
    from oodcalib.errors import OodcalibError
    from oodcalib.run_lock import run_lock

    if more:
        if (
            (num_aug and severity)
            or not (num_aug or severity)
            or not all(v.isdigit() for v in more)
        ):
            _fail(
                ValueError(
                    f"unexpected arguments {more}; values follow --num-aug or "
                    "--severity (repeat the option to give both)"
                )
            )
        if num_aug:
            num_aug = [*num_aug, *map(int, more)]
        else:
            severity = [*(severity or []), *map(int, more)]  # not empty: checked above

    if not num_aug and not components and not loss_param and not severity:
        _fail(
            ValueError(
                "choose --num-aug N [N ...], --components, --severity S [S ...] "
                "and/or --loss-param LOSS.NAME=V1,V2,..."
            )
        )
    chosen = [m.strip() for m in (methods or "").split(",") if m.strip()]
    try:
        _writable(run_dir, "run directory")
        _select_device(run_dir, device)
        with run_lock(run_dir, create=False):  # one writer per run directory
            for spec in loss_param or []:
                _loss_sweep(run_dir, spec, chosen or ["uc", "ts"])
            if severity:
                _severity_sweep(run_dir, severity, chosen)
            kinds: list[tuple[str, list[int] | None]] = [("num_aug", num_aug)] if num_aug else []
            kinds += [("components", None)] if components else []
            for kind, values in kinds:
                results = run_ablation(run_dir, kind, values)
                csv_path, md_path = write_ablation_tables(
                    results, ablation_dir(run_dir, kind), kind, _names(run_dir)["names"]
                )
                typer.echo(md_path.read_text())
                typer.echo(f"wrote {md_path} and {csv_path}")
    except (OodcalibError, ValueError) as error:
        _fail(error)


def _severity_sweep(run_dir: Path, levels: list[int], methods: list[str]) -> None:
    from oodcalib.benchmark.layout import ablation_dir
    from oodcalib.benchmark.protocol.severity_sweep import run_severity_sweep
    from oodcalib.benchmark.reporting.severity_curves import write_severity_outputs

    results = run_severity_sweep(run_dir, levels, methods or None)
    names = _names(run_dir)
    paths = write_severity_outputs(
        results, ablation_dir(run_dir, "severity"), names["names"], names["domains"]
    )
    typer.echo(paths[1].read_text())
    typer.echo("wrote " + ", ".join(str(p) for p in paths))


def _loss_sweep(run_dir: Path, spec: str, methods: list[str]) -> None:
    from oodcalib.benchmark.layout import ablation_dir
    from oodcalib.benchmark.protocol.loss_sweep import parse_loss_param, run_loss_sweep
    from oodcalib.benchmark.reporting.ablation_table import write_ablation_tables
    from oodcalib.benchmark.reporting.sensitivity import write_sensitivity_figure

    loss, name, _ = parse_loss_param(spec)
    results = run_loss_sweep(run_dir, spec, methods)
    out = ablation_dir(run_dir, "loss_param") / f"{loss}.{name}"
    names = _names(run_dir)["names"]
    csv_path, md_path = write_ablation_tables(results, out, f"{loss} {name}", names)
    figure = write_sensitivity_figure(results, out, f"{loss} {name}", names)
    typer.echo(md_path.read_text())
    typer.echo(f"wrote {md_path}, {csv_path} and {figure}")
