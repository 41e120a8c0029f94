"""``oodcalib pack``: a preset's prepared source and LGE cases in one compressed file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from oodcalib.cli.options import DataOpt, LgeOpt, RootOpt, SetOpt, _config, _fail, _writable


def pack(
    out: Annotated[
        Path, typer.Option(help="The pack file to write, NAME.oodpack (git ignores them).")
    ],
    preset: Annotated[str, typer.Option(help="Preset whose data settings are packed.")] = "paper",
    data: DataOpt = "acdc",
    data_root: RootOpt = None,
    lge_root: LgeOpt = None,
    set_: SetOpt = None,
) -> None:
    """Write the prepared data a run of PRESET needs into one file, for `--data pack:FILE`.

    The cases are prepared for the preset's data.phase, data.size and data.spacing (a run
    of other values refuses the pack); a run from the pack computes the same numbers as
    one from the source folders.
    """
    from oodcalib.datasets import load_mscmr_lge, load_source
    from oodcalib.datasets.pack import write_pack
    from oodcalib.datasets.preprocessing import prepare_case
    from oodcalib.errors import OodcalibError

    start = time.perf_counter()
    try:
        if out.suffix != ".oodpack":  # the suffix .gitignore keeps out of the repository
            raise ValueError(f"--out {out}: a pack's name ends in .oodpack")
        _writable(out, "pack file", file=True)
        config = _config(preset, data, data_root, lge_root, set_, None)
        d = config.data
        groups = {"source": load_source(d, config.seed)}
        if d.lge_root:
            groups["lge"] = load_mscmr_lge(d.lge_root)
        prepared = {
            name: [prepare_case(c, d.size, d.spacing) for c in cases]
            for name, cases in groups.items()
        }
        info = {"phase": d.phase, "size": d.size, "spacing": d.spacing, "made_from": d.source}
        write_pack(out, prepared, info)
    except (OodcalibError, ValueError, OSError) as error:
        _fail(error)
    counts = ", ".join(f"{len(v)} {k}" for k, v in prepared.items())
    typer.echo(
        f"wrote {out} ({out.stat().st_size / 2**20:.1f} MiB: {counts} cases, "
        f"{time.perf_counter() - start:.0f} s); run from it with --data pack:{out}"
    )
