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

from oodcalib.benchmark.layout import domain_groups
from oodcalib.benchmark.protocol.cell_job import score_cell
from oodcalib.benchmark.protocol.cells import require_trained, trained_cells
from oodcalib.benchmark.protocol.domains import check_domains
from oodcalib.benchmark.protocol.run_data import load_run_config, load_run_data
from oodcalib.benchmark.protocol.runner import collect_results, collect_timings
from oodcalib.datasets.domain_spec import refuse_changed_specs
from oodcalib.errors import OodcalibError
from oodcalib.run_lock import holds_run_lock


@holds_run_lock
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
    require_trained(config, run_dir, "evaluating it on new domains")
    data = load_run_data(config, run_dir)  # loads (and checks) the new domains first
    config.save(run_dir / "config.json")
    groups = domain_groups(None, {name: data.extra_domains[name] for name in domains})
    for _, fold, val in trained_cells(config, run_dir, data):
        score_cell(fold, val, groups)
    collect_timings(run_dir)
    return collect_results(run_dir)
