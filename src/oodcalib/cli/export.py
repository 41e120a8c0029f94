"""``oodcalib export``: a run's trained U-Nets as TorchScript networks for ``--model``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oodcalib.cli.options import _fail, _writable


def export(
    run_dir: Path,
    out: Annotated[Path, typer.Option(help="Folder for fold<k>.pt, fold<k>.json, splits.json.")],
    loss: Annotated[
        str | None, typer.Option(help="In a loss grid, whose nets (default: the first loss).")
    ] = None,
) -> None:
    """Export each fold's U-Net as TorchScript with its sidecar, and the run's splits.

    Run them back with ``oodcalib run --model torchscript:OUT/fold0.pt ... --calibration
    OUT/splits.json`` (the command is printed): the same patients, the same numbers.
    """
    from oodcalib.benchmark.protocol.export import export_networks
    from oodcalib.benchmark.protocol.run_data import load_run_config
    from oodcalib.errors import OodcalibError

    try:
        _writable(out)
        files = export_networks(run_dir, out, loss)
        config = load_run_config(run_dir)
    except (OodcalibError, OSError) as error:
        _fail(error)
    for path in files:
        typer.echo(f"wrote {path} and {path.with_suffix('.json').name}")
    d = config.data
    roots = (f" --data-root {d.root}" if d.root else "") + (
        f" --lge-root {d.lge_root}" if d.lge_root else ""
    )
    models = " ".join(f"--model torchscript:{p}" for p in files)
    # the calibrators' numbers depend on torch's thread count: the run's, where it set one
    threads = (
        f" --set train.num_threads={config.train.num_threads}" if config.train.num_threads else ""
    )
    typer.echo(
        f"run them with:\noodcalib run --preset {config.preset} --data {d.source}{roots} "
        f"{models} --calibration {Path(out) / 'splits.json'} --seed {config.seed}{threads}"
    )
