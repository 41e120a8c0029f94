"""Scoring a finished run on new test domains: ``oodcalib evaluate RUN_DIR --domain ...``.

Every (loss, fold) cell's segmentation net and saved calibrator fits are reused: no
training and no refit (a calibrator whose fit was never saved, a deterministic repeat,
copies repeat 0). The new domains join the run's ``eval.domains`` in ``config.json``, so
``summary``, ``leaderboard`` and ``figures`` include them, and a later ``oodcalib run``
on the directory keeps them. A domain already scored is skipped file by file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from oodcalib.benchmark.protocol.domains import check_domains
from oodcalib.benchmark.protocol.fold import Fold, cell_dir, score_cell
from oodcalib.benchmark.protocol.hyperparameters import run_losses
from oodcalib.benchmark.protocol.layout import CALIBRATION, checkpoint_path
from oodcalib.benchmark.protocol.run_data import load_run_config, load_run_data
from oodcalib.benchmark.protocol.runner import collect_results, collect_timings
from oodcalib.datasets.domain_spec import refuse_changed_specs
from oodcalib.errors import OodcalibError


def evaluate_run(run_dir: Path, domains: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Score every calibrator of ``run_dir`` on ``domains``; return the run's results.

    Args:
        run_dir: A run directory whose cells are trained (``oodcalib run``).
        domains: ``{name: spec}`` (:func:`oodcalib.datasets.domain_spec.parse_domain`).

    Raises:
        OodcalibError: Not a run directory, an untrained cell, a bad spec, or a name the
            run already uses with another spec.
    """
    run_dir = Path(run_dir)
    if not domains:
        raise OodcalibError("give at least one --domain NAME=SPEC to evaluate")
    config = load_run_config(run_dir)
    refuse_changed_specs(config.eval.domains, domains, str(run_dir / "config.json"))
    config.eval.domains = {**config.eval.domains, **domains}
    check_domains(config)
    splits_cells = [(loss, k) for loss in run_losses(config)
                    for k in range(config.data.n_folds)]
    for loss, k in splits_cells:
        checkpoint = checkpoint_path(cell_dir(config, run_dir, k, loss))
        if not checkpoint.exists():
            raise OodcalibError(f"{checkpoint}: missing; finish `oodcalib run` on {run_dir} "
                                "before evaluating it on new domains")
    data = load_run_data(config, run_dir)  # loads (and checks) the new domains first
    config.save(run_dir / "config.json")
    groups = {name: {name: data.extra_domains[name]} for name in domains}
    for loss in run_losses(config):
        for spec in data.splits["folds"]:
            fold = Fold.open(config, run_dir, spec["fold"], loss=loss)
            val = [fold.store.get(CALIBRATION, c) for c in data.cases(spec["val"])]
            try:
                score_cell(fold, val, groups)
            finally:
                fold.save_counts()
    collect_timings(run_dir)
    return collect_results(run_dir)

