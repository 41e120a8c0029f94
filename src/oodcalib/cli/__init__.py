"""Command-line interface (Typer): ``oodcalib.cli:app``. Heavy imports live inside the commands.

A command lives in the module named after it: :mod:`~oodcalib.cli.run` (what it prints
around its work: :mod:`~oodcalib.cli.run_report`), :mod:`~oodcalib.cli.summary`,
:mod:`~oodcalib.cli.corrupt`, :mod:`~oodcalib.cli.list_names` (``list``),
:mod:`~oodcalib.cli.evaluate`, :mod:`~oodcalib.cli.claims`, :mod:`~oodcalib.cli.report`
(one self-contained ``report.html`` of a run), :mod:`~oodcalib.cli.speed`,
:mod:`~oodcalib.cli.pack`, :mod:`~oodcalib.cli.phantom`, :mod:`~oodcalib.cli.inspect`,
:mod:`~oodcalib.cli.export`, :mod:`~oodcalib.cli.ablate`, :mod:`~oodcalib.cli.rescore`,
:mod:`~oodcalib.cli.figures` and :mod:`~oodcalib.cli.leaderboard`. Their shared options
are in :mod:`~oodcalib.cli.options`. They are registered here, in the order ``--help``
lists them.
"""

from __future__ import annotations

import typer

from oodcalib.cli.ablate import ablate
from oodcalib.cli.claims import claims
from oodcalib.cli.corrupt import corrupt
from oodcalib.cli.evaluate import evaluate
from oodcalib.cli.export import export
from oodcalib.cli.figures import figures
from oodcalib.cli.inspect import inspect
from oodcalib.cli.leaderboard import leaderboard
from oodcalib.cli.list_names import list_names
from oodcalib.cli.pack import pack
from oodcalib.cli.phantom import phantom
from oodcalib.cli.report import report
from oodcalib.cli.rescore import rescore
from oodcalib.cli.run import run
from oodcalib.cli.speed import speed
from oodcalib.cli.summary import summary

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


app.command()(run)
app.command()(summary)
app.command()(corrupt)
app.command()(inspect)
app.command()(evaluate)
app.command()(ablate)
app.command()(rescore)
app.command()(figures)
app.command(name="list")(list_names)
app.command()(leaderboard)
app.command()(claims)
app.command()(report)
app.command()(speed)
app.command()(pack)
app.command()(phantom)
app.command()(export)

__all__ = ["app"]
