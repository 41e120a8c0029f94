"""Hyperparameter routing: each ``calib.<method>.<name>`` reaches that calibrator only."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from oodcalib.baselines import CALIBRATORS
from oodcalib.benchmark.protocol import cell_job
from oodcalib.benchmark.protocol.hyperparameters import (
    calibrator_params,
    check_hyperparameters,
)
from oodcalib.cli import app
from oodcalib.config import PRESETS, Config, build_config
from oodcalib.errors import OodcalibError, UnknownNameError

LTS_NAMES = "iterations, batch_size, lr, crop, width, augment"


def all_params(config) -> dict[str, dict]:
    return {method: calibrator_params(config, method) for method in CALIBRATORS}


def test_a_calibrator_override_reaches_that_calibrator_only():
    before = all_params(build_config("smoke"))
    after = all_params(build_config("smoke", ["calib.lts.lr=1e-4"]))
    assert after["lts"] == {**before["lts"], "lr": 1e-4}
    assert before["lts"].get("lr") != 1e-4
    # Proposed takes an ``lr`` too: matching by name would have changed it.
    assert "lr" in CALIBRATORS["proposed"].hyperparameter_names()
    for method in CALIBRATORS.keys() - {"lts"}:
        assert after[method] == before[method], method


def test_eval_num_aug_reaches_the_methods_with_test_time_passes_only():
    params = all_params(build_config("smoke", ["eval.num_aug=7"]))
    assert params["alea"]["num_aug"] == 7 and params["proposed"]["num_aug"] == 7
    for method in ("lts", "ts", "uc"):
        assert "num_aug" not in params[method], method


def test_a_per_method_num_aug_overrides_eval_num_aug():
    params = all_params(build_config("smoke", ["eval.num_aug=7", "calib.alea.num_aug=3"]))
    assert params["alea"]["num_aug"] == 3
    assert params["proposed"]["num_aug"] == 7


def test_an_unknown_calibrator_hyperparameter_lists_the_valid_ones():
    config = build_config("smoke", ["calib.lts.widht=3"])
    with pytest.raises(
        OodcalibError, match=f"'lts' has no hyperparameter 'widht'; valid: {LTS_NAMES}"
    ):
        check_hyperparameters(config)
    with pytest.raises(OodcalibError, match="widht"):
        calibrator_params(config, "lts")


def test_an_unknown_hyperparameter_of_a_method_not_run_is_still_an_error():
    config = build_config("smoke", ["eval.methods=uc", "calib.ts.max_iters=5"])
    with pytest.raises(OodcalibError, match="valid: max_iter, max_pixels, bounds"):
        check_hyperparameters(config)


def test_a_calibrator_without_hyperparameters_says_none():
    with pytest.raises(OodcalibError, match="'uc' has no hyperparameter 'lr'; valid: none"):
        check_hyperparameters(build_config("smoke", ["calib.uc.lr=0.1"]))


def test_an_unknown_method_in_calib_lists_the_methods():
    config = build_config("smoke", ["calib.not_a_method.lr=0.1"])
    with pytest.raises(
        UnknownNameError, match="valid names are: alea, ir, lts, platt, proposed, ts, uc"
    ):
        check_hyperparameters(config)


def test_a_method_entry_must_hold_hyperparameters():
    with pytest.raises(OodcalibError, match=r"calib\.lts\.NAME=VALUE"):
        check_hyperparameters(build_config("smoke", ["calib.lts=3"], validate=False))


def test_loss_params_are_checked_against_the_loss():
    check_hyperparameters(build_config("smoke", ["train.loss_params.ce_weight=0.5"]))
    config = build_config("smoke", ["train.loss_params.alpha=0.1"])
    with pytest.raises(
        OodcalibError,
        match="loss 'dice_ce' has no hyperparameter 'alpha'; valid: dice_weight, ce_weight",
    ):
        check_hyperparameters(config)
    with pytest.raises(OodcalibError, match="'ce' has no hyperparameter 'ce_weight'; valid: none"):
        check_hyperparameters(
            build_config("smoke", ["train.loss=ce", "train.loss_params.ce_weight=0.5"])
        )


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_route_exactly_the_values_they_list(preset):
    listed = PRESETS[preset]
    config = build_config(preset)
    check_hyperparameters(config)
    num_aug = listed.get("eval.num_aug", Config().eval.num_aug)
    for method, cls in CALIBRATORS.items():
        prefix = f"calib.{method}."
        expected = {
            key[len(prefix) :]: value for key, value in listed.items() if key.startswith(prefix)
        }
        if cls.test_time_passes:
            expected = {"num_aug": num_aug, **expected}
        assert calibrator_params(config, method) == expected, method


def test_the_quick_preset_routes_its_listed_values():
    params = all_params(build_config("quick"))
    assert params["lts"] == {
        "iterations": 150,
        "batch_size": 4,
        "lr": 1e-3,
        "crop": 64,
        "width": 8,
        "pool_size": 8,
    }
    assert params["proposed"] == {**params["lts"], "width": 4, "num_aug": 10, "train_copies": 6}
    assert params["alea"] == {"num_aug": 10}
    assert params["ts"] == params["uc"] == {}


def test_cli_refuses_an_unknown_hyperparameter_before_training(tmp_path, monkeypatch):
    trained = []
    monkeypatch.setattr(cell_job, "train_segmenter", lambda *a, **k: trained.append(a))
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app, ["run", "--preset", "smoke", "--set", "calib.lts.widht=3", "--out", str(out)]
    )
    assert result.exit_code == 2, result.output
    assert "widht" in result.output and LTS_NAMES in result.output
    assert trained == []
    assert not list(tmp_path.rglob("fold*")) and not list(tmp_path.rglob("checkpoint.pt"))
