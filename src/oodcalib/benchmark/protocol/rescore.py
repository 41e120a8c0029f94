"""Re-scoring a finished run: every registered metric, from its caches, with no training.

``oodcalib rescore RUN_DIR`` loads each fold's segmentation net, cached logits and saved
calibrator fits, predicts every test scan again (Alea. and Proposed read the cached
augmented passes) and rewrites the per-case results with every metric of
:data:`~oodcalib.metrics.METRICS`, then ``results.csv``. Methods named with
``add`` that the run does not have yet are fitted on the fold's calibration scans (their
cached logits) and join the run's configuration.

A (method, repeat) whose per-case file already holds every registered metric and has its
bins file is skipped, so an interrupted rescore resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from oodcalib.baselines import CALIBRATORS, Calibrator
from oodcalib.benchmark.layout import (
    bins_path,
    calibrator_path,
    domain_groups,
    file_label,
    per_case_path,
)
from oodcalib.benchmark.protocol.cell_job import copy_repeat
from oodcalib.benchmark.protocol.cells import require_trained, trained_cells
from oodcalib.benchmark.protocol.fold import Fold
from oodcalib.benchmark.protocol.run_data import load_run_config, load_run_data
from oodcalib.benchmark.protocol.runner import collect_results, collect_timings
from oodcalib.errors import OodcalibError, lookup
from oodcalib.metrics import METRICS
from oodcalib.run_lock import holds_run_lock


def is_current(path: Path) -> bool:
    """Whether a per-case file holds every registered metric and has its bins file."""
    if not path.exists() or not bins_path(path).exists():
        return False
    metrics = set(pd.read_csv(path, usecols=["metric"])["metric"])
    return set(METRICS) <= metrics


@holds_run_lock
def rescore_run(run_dir: Path, add: Sequence[str] = ()) -> pd.DataFrame:
    """Re-score every fit of ``run_dir`` with every registered metric; return the results.

    Args:
        run_dir: A run directory whose folds are trained (``oodcalib run``).
        add: Registered methods to fit and score as well (e.g. ``["ir", "platt"]``).

    Raises:
        OodcalibError: Not a run directory, an unknown method, or an untrained fold.
    """
    run_dir = Path(run_dir)
    config = load_run_config(run_dir)
    for method in add:
        lookup(CALIBRATORS, method, "method")
    data = load_run_data(config, run_dir)
    require_trained(config, run_dir, "rescoring it")
    new = [m for m in dict.fromkeys(add) if m not in config.eval.methods]
    if new:
        config.eval.methods = [*config.eval.methods, *new]
        config.save(run_dir / "config.json")
    groups = domain_groups(data.test_domains, data.extra_domains)
    for _, fold, val in trained_cells(config, run_dir, data):
        for group, domains in groups.items():
            for method in config.eval.methods:
                for repeat in range(config.eval.repeats):
                    _rescore(fold, method, repeat, val, domains, group)
    collect_timings(run_dir)
    return collect_results(run_dir)


def _rescore(
    fold: Fold, method: str, repeat: int, val: list, domains: dict, group: str | None = None
) -> None:
    label = file_label(method)
    path = per_case_path(fold.directory, label, repeat, group)
    if is_current(path):
        return
    first = per_case_path(fold.directory, label, 0, group)
    if repeat and CALIBRATORS.get(method, Calibrator).deterministic and is_current(first):
        copy_repeat(first, path, repeat)
        return
    if path.exists() and not calibrator_path(fold.directory, label, repeat).exists():
        raise OodcalibError(
            f"{calibrator_path(fold.directory, label, repeat)}: missing, so "
            f"{path} cannot be rescored without refitting; delete {path} "
            "to fit it again"
        )
    calibrator = fold.calibrator(method, repeat, val)
    fold.write_scores(calibrator, method, repeat, domains, path)
