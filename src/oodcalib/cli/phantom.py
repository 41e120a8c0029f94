"""``oodcalib phantom``: a PNG of phantom slices with label contours, cine and LGE.

The figure shows, per case, the most basal, a basal, the mid-ventricular, an apical and
the last slice with the label's contours, to judge the built-in phantom by eye; the
command also lists what each case drew (phenotype, pixel size, slices, noise, events).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def phantom(
    out: Annotated[Path, typer.Option("--out", help="PNG file to write.")],
    cases: Annotated[int, typer.Option(help="Cases per contrast (one row each).", min=1)] = 3,
    seed: Annotated[int, typer.Option(help="Phantom seed (as the run's `seed`).")] = 0,
    size: Annotated[int, typer.Option(help="Image size in pixels (as `data.size`).", min=32)] = 160,
) -> None:
    """Draw basal to apical slices of bSSFP and LGE phantom cases with label contours."""
    from oodcalib.datasets.phantom.figure import describe_case, write_phantom_figure

    path, drawn = write_phantom_figure(out, cases=cases, seed=seed, size=size)
    for case in drawn:
        typer.echo(describe_case(case))
    typer.echo(f"wrote {path}")
