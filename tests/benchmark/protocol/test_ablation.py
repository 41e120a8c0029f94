"""Ablations reuse a run's models, fits and cached passes (paper Table 2)."""

import json

import numpy as np
import pandas as pd
import pytest

from oodcalib.baselines import SusceptibilityShapePrior, display_names
from oodcalib.benchmark.protocol.ablation import COMPONENTS, run_ablation
from oodcalib.benchmark.protocol.runner import run_benchmark
from oodcalib.benchmark.reporting.ablation_table import write_ablation_tables
from oodcalib.config import build_config
from oodcalib.errors import OodcalibError

KEY = ["fold", "repeat", "domain", "case", "metric"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("ablate")
    config = build_config(
        "smoke", ["eval.methods=uc,alea,proposed", "eval.repeats=1", "data.max_test_cases=2"]
    )
    return config, run_dir, run_benchmark(config, run_dir)


def _passes(run_dir):
    return [
        json.loads((run_dir / f"fold{k}" / "forward_passes.json").read_text())["passes"]
        for k in range(3)
    ]


def _slices(run_dir, k):
    return sum(
        np.load(f, mmap_mode="r").shape[0] for f in (run_dir / f"fold{k}" / "logits").rglob("*.npy")
    )


def test_num_aug_reuses_fits_and_passes(run):
    config, run_dir, results = run
    before = _passes(run_dir)
    ablation = run_ablation(run_dir, "num_aug", [1, config.eval.num_aug])
    assert _passes(run_dir) == before  # N_A <= the run's: all from the cache
    assert set(ablation["method"]) == {"alea", "proposed"}
    same = ablation[ablation.setting == str(config.eval.num_aug)]
    for method in ("alea", "proposed"):
        a = same[same.method == method].sort_values(KEY)["value"].to_numpy()
        b = results[results.method == method].sort_values(KEY)["value"].to_numpy()
        np.testing.assert_allclose(a, b, rtol=1e-6, err_msg=method)
    one = ablation[(ablation.setting == "1") & (ablation.method == "alea")]
    assert not np.allclose(
        one.sort_values(KEY)["value"], same[same.method == "alea"].sort_values(KEY)["value"]
    )
    write_ablation_tables(ablation, run_dir / "ablation" / "num_aug", "num_aug", display_names())
    table = pd.read_csv(run_dir / "ablation" / "num_aug" / "table.csv")
    assert {"artifact avg", "clean", "lge"} <= set(table.columns)
    md = (run_dir / "ablation" / "num_aug" / "table.md").read_text()
    assert "| Proposed | 1 |" in md and "| Alea. | 2 |" in md
    assert md.index("| Alea. | 1 |") < md.index("| Alea. | 2 |")


def test_the_runs_own_num_aug_is_reused_and_equals_a_fresh_evaluation(run):
    """The ablation copies the run's results at its own N_A; re-evaluating the saved fit
    with that N_A (what the ablation did before) gives the same numbers."""
    from oodcalib.benchmark.protocol.fold import Fold
    from oodcalib.benchmark.protocol.run_data import load_run_data

    config, run_dir, results = run
    data = load_run_data(config, run_dir)
    fold = Fold.open(config, run_dir, 0)
    val = [fold.store.get("val", c) for c in data.cases(data.splits["folds"][0]["val"])]
    calibrator = fold.calibrator("proposed", 0, val).set_params(num_aug=config.eval.num_aug)
    fresh = fold.evaluate(calibrator, "proposed", 0, data.test_domains)[0].sort_values(KEY)
    ablation = pd.read_csv(
        run_dir
        / "ablation"
        / "num_aug"
        / "per_case"
        / "fold0"
        / f"proposed_{config.eval.num_aug}_r0.csv"
    ).sort_values(KEY)
    np.testing.assert_allclose(fresh["value"], ablation["value"], rtol=1e-6)


def test_a_larger_num_aug_runs_only_the_missing_passes(run):
    config, run_dir, _ = run
    before = _passes(run_dir)
    run_ablation(run_dir, "num_aug", [config.eval.num_aug + 1])
    after = _passes(run_dir)
    for k in range(3):
        test_slices = _slices(run_dir, k) - _slices_of(run_dir, k, "val")
        assert after[k] - before[k] == test_slices  # one extra pass per test slice


def _slices_of(run_dir, k, domain):
    return sum(
        np.load(f, mmap_mode="r").shape[0]
        for f in (run_dir / f"fold{k}" / "logits" / domain).glob("*.npy")
    )


def test_components_refit_variants_and_reuse_both(run, monkeypatch):
    _, run_dir, results = run
    ablation = run_ablation(run_dir, "components")
    assert set(ablation["setting"]) == set(COMPONENTS)
    both = ablation[ablation.setting == "both"].sort_values(KEY)["value"].to_numpy()
    main = results[results.method == "proposed"].sort_values(KEY)["value"].to_numpy()
    np.testing.assert_allclose(both, main, rtol=1e-6)
    for name in ("neither", "susceptibility", "shape"):
        assert (run_dir / "fold0" / "calibrators" / f"proposed-{name}_r0.pt").exists()
    monkeypatch.setattr(SusceptibilityShapePrior, "fit", lambda *a: pytest.fail("refit"))
    again = run_ablation(run_dir, "components")  # resumes from the per-case files
    pd.testing.assert_frame_equal(again, ablation)


def test_bad_requests_are_explained(run, tmp_path):
    _, run_dir, _ = run
    with pytest.raises(OodcalibError, match="config.json"):
        run_ablation(tmp_path, "num_aug", [2])
    with pytest.raises(OodcalibError, match="num_aug, components"):
        run_ablation(run_dir, "depth")
    with pytest.raises(OodcalibError, match=">= 1"):
        run_ablation(run_dir, "num_aug", [0])
