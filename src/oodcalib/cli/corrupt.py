"""``oodcalib corrupt``: corrupted NIfTI volumes and their drawn parameters, to look at."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oodcalib.cli.options import DataOpt, PluginOpt, RootOpt, SetOpt, _config, _fail, _writable


def corrupt(
    out: Annotated[Path, typer.Option(help="Output folder for NIfTI files.")],
    data: DataOpt = "phantom",
    data_root: RootOpt = None,
    corruption: Annotated[
        list[str] | None, typer.Option(help="Corruption(s); all if unset.")
    ] = None,
    severity: Annotated[int, typer.Option(help="Severity 1-5 (3 = reference).")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the corruptions.")] = 0,
    cases: Annotated[int, typer.Option(help="Number of cases to write.")] = 3,
    size: Annotated[int, typer.Option(help="In-plane crop size.")] = 192,
    plugin: PluginOpt = None,
    set_: SetOpt = None,
) -> None:
    """Write corrupted NIfTI volumes (and their sampled parameters) for inspection."""
    from oodcalib.corruptions import CORRUPTIONS, get_corruption, write_corrupted_nifti
    from oodcalib.datasets import load_source
    from oodcalib.datasets.preprocessing import prepare_case
    from oodcalib.errors import OodcalibError

    try:
        _writable(out, "output folder")
        config = _config(
            "paper",
            data,
            data_root,
            None,
            [f"data.size={size}", f"data.phantom_cases={cases}", *(set_ or [])],
            seed,
            plugin,
        )
        names = list(corruption or CORRUPTIONS)
        for name in names:
            get_corruption(name)
        loaded = load_source(config.data, config.seed)[:cases]
        prepared = [prepare_case(c, size, config.data.spacing) for c in loaded]
        paths = write_corrupted_nifti(prepared, names, severity, seed, out)
    except (OodcalibError, ValueError) as error:
        _fail(error)
    typer.echo(f"wrote {len(paths)} files under {out}")
