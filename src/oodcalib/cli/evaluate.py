"""``oodcalib evaluate``: score a finished run on new test domains, without retraining."""

from __future__ import annotations

import time
from pathlib import Path

from oodcalib.cli.options import (
    DeviceOpt,
    DomainOpt,
    ExcludeOpt,
    _domains,
    _fail,
    _select_device,
    _writable,
)


def evaluate(
    run_dir: Path,
    domain: DomainOpt = None,
    exclude_patients: ExcludeOpt = False,
    device: DeviceOpt = "auto",
) -> None:
    """Score a finished run's nets and calibrators on extra test domains (--domain)."""
    from oodcalib.benchmark.protocol.evaluation import evaluate_run
    from oodcalib.cli.run_report import report
    from oodcalib.errors import OodcalibError
    from oodcalib.run_lock import run_lock

    start = time.perf_counter()
    try:
        _writable(run_dir, "run directory")
        _select_device(run_dir, device)
        domains = _domains(domain, exclude_patients)
        with run_lock(run_dir, create=False):  # one writer, until the report is out
            results = evaluate_run(run_dir, domains)
            report(run_dir, results, time.perf_counter() - start, command="evaluate")
    except (OodcalibError, ValueError) as error:
        _fail(error)
