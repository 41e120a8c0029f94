"""End-to-end runs of the smoke preset: outputs, tidy results, resume, config safety."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from oodcalib.baselines import CALIBRATORS, SusceptibilityShapePrior
from oodcalib.benchmark.layout import bins_path
from oodcalib.benchmark.protocol import fold as evaluation
from oodcalib.benchmark.protocol.cost_model import pool_passes, predict_seconds
from oodcalib.benchmark.protocol.runner import run_benchmark
from oodcalib.benchmark.reporting.dataset_metrics import micro_results, read_bins
from oodcalib.config import build_config
from oodcalib.errors import OodcalibError
from oodcalib.metrics import METRICS
from oodcalib.segmentation import training


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run")
    config = build_config("smoke")
    return config, run_dir, run_benchmark(config, run_dir)


def test_run_directory_contents(smoke_run):
    config, run_dir, results = smoke_run
    for name in ("config.json", "environment.json", "splits.json", "results.csv"):
        assert (run_dir / name).exists(), name
    env = json.loads((run_dir / "environment.json").read_text())
    assert env["packages"]["torch"] and "git_revision" in env
    # the vector instructions the timings ran on, as torch reports them
    assert env["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert env["cpu_count"] >= 1 and "cpu_model" in env
    splits = json.loads((run_dir / "splits.json").read_text())
    assert len(splits["folds"]) == 3
    for k in range(3):
        assert (run_dir / f"fold{k}" / "checkpoint.pt").exists()
        assert (run_dir / f"fold{k}" / "train_log.csv").exists()
    params = list((run_dir / "corrupted").rglob("*.json"))
    assert len(params) == 4 * config.data.max_test_cases


def test_results_are_tidy_and_complete(smoke_run):
    config, _, results = smoke_run
    assert list(results.columns) == [
        "loss",
        "method",
        "fold",
        "repeat",
        "domain",
        "case",
        "metric",
        "value",
    ]
    assert not results.duplicated(["method", "fold", "repeat", "domain", "case", "metric"]).any()
    assert set(results["domain"]) == {"clean", "bias_field", "motion", "ghosting", "spike", "lge"}
    assert set(results["method"]) == {"uc", "ts", "lts", "alea", "proposed", "ir", "platt"}
    n_cases = config.data.max_test_cases
    # methods x folds x repeats x domains x cases x metrics
    expected = 7 * 3 * config.eval.repeats * 6 * n_cases * len(METRICS)
    assert len(results) == expected
    ece = results[results.metric.isin(["ece", "sce"])]["value"]
    assert ece.between(0, 1).all()
    on_disk = pd.read_csv(smoke_run[1] / "results.csv")
    pd.testing.assert_frame_equal(on_disk, results)


def test_temperature_methods_share_predictions(smoke_run):
    """TS, LTS and Proposed never change the argmax, so their Dice is identical to UC's."""
    _, _, results = smoke_run
    for metric in ("dice", "hd95"):
        values = results[results.metric == metric].pivot_table(
            index=["fold", "repeat", "domain", "case"], columns="method", values="value"
        )
        for method in ("ts", "lts", "proposed"):
            np.testing.assert_allclose(values["uc"], values[method], err_msg=method)


def test_every_per_case_file_has_its_bins_and_micro_metrics_follow(smoke_run):
    config, run_dir, results = smoke_run
    per_case = sorted(run_dir.glob("fold*/per_case/*_r*.csv"))
    assert len(per_case) == 3 * 7 * config.eval.repeats
    bins = read_bins(run_dir)
    assert len(bins) and set(bins["method"]) == set(results["method"])
    for path in per_case:
        assert bins_path(path).exists(), path
    # every scored scan has its bins; every class's counts add up to the scan's voxels
    scans = bins.groupby(["method", "fold", "repeat", "domain", "case", "class"])["count"].sum()
    assert scans.nunique() > 1 and len(scans) == 4 * len(
        results.drop_duplicates(["method", "fold", "repeat", "domain", "case"])
    )
    micro = micro_results(bins)
    assert len(micro) == 3 * 7 * config.eval.repeats * 6 * 3
    assert micro["value"].between(0, 1).all()


def test_augmented_passes_are_computed_once_and_shared(smoke_run):
    """Alea., Proposed and every repeat reuse one set of N_A passes per scan."""
    config, run_dir, _ = smoke_run
    for k in range(3):
        fold = run_dir / f"fold{k}"
        counts = json.loads((fold / "forward_passes.json").read_text())
        slices = sum(np.load(f, mmap_mode="r").shape[0] for f in (fold / "logits").rglob("*.npy"))
        assert counts["logits"] == slices
        assert counts["passes"] == config.eval.num_aug * slices
        # LTS and Proposed train on one shared pool of augmented calibration slices:
        # pool_size draws per slice, once, plus train_copies copies of each for Proposed
        val = _slices_of(fold, "val")
        proposed = config.calib["proposed"]
        assert counts["pool"] == val * proposed["pool_size"] * (1 + proposed["train_copies"])
        assert counts["pool"] == val * pool_passes(config)
        assert "fit:lts" not in counts and "fit:proposed" not in counts
        # deterministic calibrators (UC, Alea.) are fitted once; their repeats are copies
        fits = sum(
            1 if CALIBRATORS[m].deterministic else config.eval.repeats for m in config.eval.methods
        )
        assert len(list((fold / "calibrators").glob("*.pt"))) == fits


def _slices_of(fold, domain):
    return sum(np.load(f, mmap_mode="r").shape[0] for f in (fold / "logits" / domain).glob("*.npy"))


def test_deterministic_repeats_are_copies_of_repeat_zero(smoke_run):
    _, _, results = smoke_run
    for method in ("uc", "alea"):
        rows = results[results.method == method]
        first = rows[rows.repeat == 0].drop(columns="repeat").reset_index(drop=True)
        for repeat in sorted(set(rows.repeat) - {0}):
            other = rows[rows.repeat == repeat].drop(columns="repeat").reset_index(drop=True)
            pd.testing.assert_frame_equal(first, other)


def test_stage_times_cover_every_stage_of_every_fold(smoke_run):
    config, run_dir, _ = smoke_run
    timings = json.loads((run_dir / "timings.json").read_text())
    run = timings.pop("run")  # the run's wall time, beside the cells' stages
    assert sorted(timings) == ["fold0", "fold1", "fold2"]
    assert run["processes"] == 1
    # the wall time covers each cell's stages (cells may overlap, so not their sum)
    assert run["wall"] >= max(sum(stages.values()) for stages in timings.values())
    for stages in timings.values():
        expected = {"train", "logits", "passes", "metrics"} | {
            f"{kind}:{m}" for m in config.eval.methods for kind in ("fit", "predict")
        }
        assert expected <= set(stages)
        assert all(seconds >= 0 for seconds in stages.values())


def test_cost_model_counts_the_slices_the_run_sent_through_the_net(smoke_run):
    """With 1 s per slice, predicted seconds are slice counts: the pool and the passes
    within the spread of slices per scan, logits close."""
    config, run_dir, _ = smoke_run
    counts = [
        json.loads((run_dir / f"fold{k}" / "forward_passes.json").read_text()) for k in range(3)
    ]
    logits = sorted((run_dir / "fold0" / "logits").rglob("*.npy"))
    slices = np.mean([np.load(f, mmap_mode="r").shape[0] for f in logits])
    predicted = predict_seconds(
        config,
        {"infer_seconds_per_slice": 1.0, "train_seconds_per_step": 0.0},
        slices,
        source_cases=config.data.phantom_cases,
        lge_cases=config.data.lge_phantom_cases,
    )
    for stage in ("pool", "passes"):
        assert predicted[stage] == pytest.approx(sum(c[stage] for c in counts), rel=0.2)
    assert predicted["logits"] == pytest.approx(sum(c["logits"] for c in counts), rel=0.2)


def test_rerun_resumes_without_recomputing(smoke_run, monkeypatch):
    config, run_dir, results = smoke_run

    def boom(*args, **kwargs):
        raise AssertionError("finished work was redone")

    monkeypatch.setattr(training, "validation_dice", boom)
    monkeypatch.setattr(evaluation.Fold, "evaluate", boom)
    again = run_benchmark(config, run_dir)
    pd.testing.assert_frame_equal(again, results)


def test_interrupted_run_recomputes_only_missing_pieces(smoke_run, monkeypatch):
    config, run_dir, results = smoke_run
    (run_dir / "fold1" / "per_case" / "ts_r1.csv").unlink()
    (run_dir / "fold1" / "calibrators" / "ts_r1.pt").unlink()
    (run_dir / "fold2" / "per_case" / "proposed_r0.csv").unlink()  # its fit is kept
    calls = []
    real = evaluation.Fold.evaluate
    monkeypatch.setattr(
        evaluation.Fold,
        "evaluate",
        lambda self, cal, label, repeat, d: (
            calls.append((self.index, label, repeat)) or real(self, cal, label, repeat, d)
        ),
    )
    fits = []
    real_fit = SusceptibilityShapePrior.fit
    monkeypatch.setattr(
        SusceptibilityShapePrior, "fit", lambda self, *a: fits.append(1) or real_fit(self, *a)
    )
    before = json.loads((run_dir / "fold2" / "forward_passes.json").read_text())
    again = run_benchmark(config, run_dir)
    assert calls == [(1, "ts", 1), (2, "proposed", 0)]
    assert fits == []  # the saved Proposed fit was reloaded, not refitted
    after = json.loads((run_dir / "fold2" / "forward_passes.json").read_text())
    assert after == before  # its passes came from the cache
    key = ["method", "fold", "repeat", "domain", "case", "metric"]
    pd.testing.assert_frame_equal(
        again.sort_values(key).reset_index(drop=True),
        results.sort_values(key).reset_index(drop=True),
    )


def test_refuses_a_different_config_in_the_same_directory(smoke_run):
    config, run_dir, _ = smoke_run
    other = build_config("smoke", ["train.iterations=7"])
    with pytest.raises(OodcalibError, match="train.iterations"):
        run_benchmark(other, run_dir)


def test_same_seed_same_numbers(smoke_run, tmp_path):
    config, _, results = smoke_run
    small = build_config("smoke", ["eval.repeats=1", "eval.methods=uc"])
    again = run_benchmark(small, tmp_path)
    ref = results[(results.method == "uc") & (results.repeat == 0)].reset_index(drop=True)
    key = ["fold", "domain", "case", "metric"]
    np.testing.assert_allclose(
        again.sort_values(key)["value"].to_numpy(),
        ref.sort_values(key)["value"].to_numpy(),
        rtol=1e-5,
        atol=1e-6,
    )


def test_bad_data_root_is_explained(tmp_path):
    config = build_config("smoke", ["data.source=acdc", f"data.root={tmp_path / 'nowhere'}"])
    with pytest.raises(OodcalibError, match="nowhere"):
        run_benchmark(config, tmp_path / "run")
    assert not list((tmp_path / "run").glob("fold*"))


def test_real_data_tiny_end_to_end(shared_data, tmp_path):
    config = build_config(
        "smoke",
        [
            "data.source=acdc",
            f"data.root={shared_data / 'ACDC'}",
            f"data.lge_root={shared_data / 'MSCMR_LGE'}",
            "data.train_per_fold=2",
            "data.size=128",
            "data.max_test_cases=2",
            "eval.repeats=1",
            "data.n_folds=1",
            "eval.corruptions=motion",
            "eval.methods=uc,alea,proposed",
        ],
    )
    results = run_benchmark(config, tmp_path)
    assert set(results["domain"]) == {"clean", "motion", "lge"}
    assert results["case"].str.startswith("subject").sum() > 0
    assert results[results.metric == "ece"]["value"].between(0, 1).all()


def test_a_run_directory_of_version_0_1_is_refused_with_the_reason(tmp_path):
    legacy = build_config("smoke").to_dict()
    del legacy["plugins"]
    legacy["calib"] = {
        "iterations": 2,
        "batch_size": 2,
        "lr": None,
        "crop": 32,
        "width": 4,
        "train_copies": 2,
    }
    (tmp_path / "config.json").write_text(json.dumps(legacy))
    with pytest.raises(OodcalibError, match="oodcalib 0.1"):
        run_benchmark(build_config("smoke"), tmp_path)
    assert not list(tmp_path.glob("fold*"))


def test_a_failing_plugin_calibrator_is_named_and_the_other_methods_are_kept(tmp_path):
    plugin = tmp_path / "failing.py"
    plugin.write_text(
        "import sys\n"
        "from oodcalib.baselines import CALIBRATORS, Uncalibrated\n\n\n"
        "class BoomFit(Uncalibrated):\n"
        "    def fit(self, scans, model):\n"
        "        raise ValueError('no convergence')\n\n\n"
        "class ExitPredict(Uncalibrated):\n"
        "    def predict_proba(self, scan, model):\n"
        "        sys.exit(3)\n\n\n"
        "CALIBRATORS['boom_fit'] = BoomFit\n"
        "CALIBRATORS['exit_predict'] = ExitPredict\n"
    )
    config = build_config(
        "smoke",
        [
            "data.n_folds=1",
            "eval.methods=uc,boom_fit,exit_predict,ts",
            "eval.repeats=1",
            "data.max_test_cases=1",
            "eval.corruptions=motion",
            f"plugins=[{str(plugin)!r}]",
        ],
    )
    try:
        with pytest.raises(OodcalibError) as info:
            run_benchmark(config, tmp_path / "run")
    finally:
        CALIBRATORS.pop("boom_fit", None)
        CALIBRATORS.pop("exit_predict", None)
    message = str(info.value)
    assert message.startswith(
        f"plugin {plugin}: method 'boom_fit' fit failed (ValueError: no convergence) "
        "(and 1 more: exit_predict); the results of the other methods (uc, ts) in "
    )
    assert "\n" not in message
    per_case = tmp_path / "run" / "fold0" / "per_case"
    assert sorted(p.name for p in per_case.glob("*_r0.csv")) == ["ts_r0.csv", "uc_r0.csv"]
