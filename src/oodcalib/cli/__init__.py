"""Command-line interface (Typer): ``oodcalib.cli:app``. Heavy imports live inside the commands.

The commands are defined in :mod:`~oodcalib.cli.run` (run, summary, corrupt, list) and
:mod:`~oodcalib.cli.analysis` (ablate, rescore, figures, leaderboard) and
:mod:`~oodcalib.cli.evaluate`, :mod:`~oodcalib.cli.claims` and :mod:`~oodcalib.cli.report`
(one self-contained ``report.html`` of a run), with their shared
options in :mod:`~oodcalib.cli.options`; :mod:`~oodcalib.cli.phantom` draws the built-in
phantom, :mod:`~oodcalib.cli.inspect` shows a data source and :mod:`~oodcalib.cli.pack`
writes a data pack. They are registered here, in
the order ``--help`` lists them.
"""

from __future__ import annotations

import typer

from oodcalib.cli import analysis
from oodcalib.cli import run as run_commands
from oodcalib.cli.claims import claims
from oodcalib.cli.evaluate import evaluate
from oodcalib.cli.export import export
from oodcalib.cli.inspect import inspect
from oodcalib.cli.pack import pack
from oodcalib.cli.phantom import phantom
from oodcalib.cli.report import report
from oodcalib.cli.speed import speed

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="oodcalib: calibration of segmentation networks on out-of-domain MRI.",
)


@app.callback()
def _plain_warnings() -> None:
    # a warning is one line, "warning: <message>" (messages name their file), without
    # Python's "file.py:123: UserWarning:" prefix and the source line under it
    import warnings

    from oodcalib.cli.options import one_line_warning

    warnings.formatwarning = one_line_warning


app.command()(run_commands.run)
app.command()(run_commands.summary)
app.command()(run_commands.corrupt)
app.command()(inspect)
app.command()(evaluate)
app.command()(analysis.ablate)
app.command()(analysis.rescore)
app.command()(analysis.figures)
app.command(name="list")(run_commands.list_names)
app.command()(analysis.leaderboard)
app.command()(claims)
app.command()(report)
app.command()(speed)
app.command()(pack)
app.command()(phantom)
app.command()(export)

__all__ = ["app"]
