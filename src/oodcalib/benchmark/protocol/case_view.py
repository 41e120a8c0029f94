"""One test case of a finished run, as every fitted calibrator sees it (for figures)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from oodcalib.benchmark.layout import CLEAN, calibrator_path, file_label
from oodcalib.benchmark.protocol.fold import Fold
from oodcalib.benchmark.protocol.run_data import load_run_config, load_run_data
from oodcalib.datasets import Case
from oodcalib.errors import OodcalibError, lookup


def case_probabilities(
    run_dir: Path,
    case_id: str,
    domain: str,
    fold: int = 0,
    repeat: int = 0,
    methods: list[str] | None = None,
    loss: str | None = None,
) -> tuple[Case, dict[str, np.ndarray]]:
    """Calibrated probabilities of one test case under every fitted method of a run.

    Args:
        run_dir: A run directory made by ``oodcalib run``.
        case_id: Test case id (see ``results.csv``).
        domain: Test domain (``clean``, an artifact, or ``lge``).
        fold: Which fold's segmentation net and calibrators to use.
        repeat: Which calibrator repeat.
        methods: Methods to include (default: the run's methods).
        loss: Whose segmentation net, in a loss grid (default: the grid's first loss).

    Returns:
        The case and ``{method: (Z, C, H, W) probabilities}``.
    """
    run_dir = Path(run_dir)
    config = load_run_config(run_dir)
    data = load_run_data(config, run_dir)
    cases = {c.case_id: c for c in lookup(data.test_domains, domain, "domain")}
    case = lookup(cases, case_id, f"case of domain {domain!r}")
    folds = [f["fold"] for f in data.splits["folds"]]
    if fold not in folds:
        raise OodcalibError(f"unknown fold {fold}; valid folds are: {folds}")
    ctx = Fold.open(config, run_dir, fold, loss=loss)
    probs = {}
    for method in methods or config.eval.methods:
        path = calibrator_path(ctx.directory, file_label(method), repeat)
        if not path.exists():
            raise OodcalibError(
                f"{path}: missing; the run has not fitted {method} repeat {repeat} of fold {fold}"
            )
        calibrator = ctx.calibrator(method, repeat, [])
        probs[method] = calibrator.predict_proba(ctx.store.get(domain, case), ctx.model)
    ctx.save_counts()
    return case, probs


def domain_cases(run_dir: Path, case_id: str | None = None) -> dict[str, Case]:
    """One test scan in every test domain of a run, as the network sees it.

    The artifact domains are corrupted copies of the clean scans, so they show the same
    patient (``case_id``, default: the first clean test scan); LGE and the extra domains
    hold other patients and show their first scan.

    Raises:
        OodcalibError: If ``case_id`` is not a clean test scan of the run.
    """
    run_dir = Path(run_dir)
    data = load_run_data(load_run_config(run_dir), run_dir)
    clean = {c.case_id: c for c in data.test_domains[CLEAN]}
    chosen = case_id or next(iter(clean))
    lookup(clean, chosen, "clean test case")
    out = {}
    for domain, cases in {**data.test_domains, **data.extra_domains}.items():
        same = [c for c in cases if c.case_id == chosen]
        out[domain] = same[0] if same else cases[0]
    return out
