"""``oodcalib rescore``: every registered metric of a finished run again, from its caches."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oodcalib.cli.options import DeviceOpt, _fail, _select_device, _writable


def rescore(
    run_dir: Path,
    add: Annotated[
        list[str] | None,
        typer.Option(
            help="Methods to fit and score as well (repeat or comma-separate), e.g. ir,platt."
        ),
    ] = None,
    device: DeviceOpt = "auto",
) -> None:
    """Recompute every registered metric of a finished run from its caches (no training)."""
    import time

    from oodcalib.benchmark.protocol.rescore import rescore_run
    from oodcalib.cli.run_report import report
    from oodcalib.errors import OodcalibError
    from oodcalib.run_lock import run_lock

    methods = [m.strip() for value in add or [] for m in value.split(",") if m.strip()]
    start = time.perf_counter()
    try:
        _writable(run_dir, "run directory")
        _select_device(run_dir, device)
        with run_lock(run_dir, create=False):  # one writer, until the report is out
            results = rescore_run(run_dir, methods)
            report(run_dir, results, time.perf_counter() - start)
    except (OodcalibError, ValueError) as error:
        _fail(error)
