"""The loss grid: one net per (loss, fold) cell, loss-aware reports, sweeps of a loss weight."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from oodcalib.benchmark.protocol.cost_model import predict_seconds
from oodcalib.benchmark.protocol.hyperparameters import (
    cell_config,
    check_hyperparameters,
    loss_params,
    run_losses,
)
from oodcalib.benchmark.protocol.runner import run_benchmark
from oodcalib.cli import app
from oodcalib.config import build_config
from oodcalib.errors import OodcalibError

runner = CliRunner()
SETTINGS = [
    "eval.methods=uc,ts",
    "eval.repeats=1",
    "eval.corruptions=spike",
    "data.max_test_cases=2",
    "data.n_folds=2",
]
KEY = ["method", "fold", "repeat", "domain", "case", "metric"]


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("grid")
    config = build_config(
        "smoke", [*SETTINGS, "train.losses=ce,nacl", "train.loss_params.nacl.alpha=0.3"]
    )
    return config, run_dir, run_benchmark(config, run_dir)


def test_every_cell_has_its_own_net_and_rows(grid):
    config, run_dir, results = grid
    for loss in ("ce", "nacl"):
        for k in range(2):
            assert (run_dir / "losses" / loss / f"fold{k}" / "checkpoint.pt").exists()
    assert not (run_dir / "fold0").exists()
    assert list(results.columns[:2]) == ["loss", "method"]
    assert set(results["loss"]) == {"ce", "nacl"}
    assert not results.duplicated(["loss", *KEY]).any()
    per_loss = results.groupby("loss").size()
    assert per_loss["ce"] == per_loss["nacl"]
    timings = json.loads((run_dir / "timings.json").read_text())
    cells = {f"{loss}/fold{k}" for loss in ("ce", "nacl") for k in range(2)}
    assert set(timings) == cells | {"run"}  # each cell's stages, and the run's wall time


def test_a_cell_equals_the_single_loss_run_of_its_loss(grid, tmp_path):
    # same seeds for every loss: the grid's nacl cells are the nacl run, value for value
    config, _, results = grid
    single = build_config("smoke", [*SETTINGS, "train.loss=nacl", "train.loss_params.alpha=0.3"])
    alone = run_benchmark(single, tmp_path / "nacl")
    assert set(alone["loss"]) == {"nacl"}
    mine = results[results["loss"] == "nacl"].sort_values(KEY)["value"].to_numpy()
    np.testing.assert_array_equal(mine, alone.sort_values(KEY)["value"].to_numpy())
    # and the loss weight made a difference: the ce cells differ
    other = results[results["loss"] == "ce"].sort_values(KEY)["value"].to_numpy()
    assert not np.array_equal(mine, other)


def test_a_grown_grid_resumes_and_trains_only_the_new_loss(grid, tmp_path):
    config, run_dir, results = grid
    stamps = {p: p.stat().st_mtime_ns for p in run_dir.glob("losses/*/fold*/checkpoint.pt")}
    grown = build_config(
        "smoke", [*SETTINGS, "train.losses=ce,nacl,ls", "train.loss_params.nacl.alpha=0.3"]
    )
    more = run_benchmark(grown, run_dir)
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert set(more["loss"]) == {"ce", "nacl", "ls"}
    old = more[more["loss"] != "ls"].sort_values(["loss", *KEY])["value"].to_numpy()
    np.testing.assert_array_equal(old, results.sort_values(["loss", *KEY])["value"].to_numpy())
    # a grid that drops a loss, or another weight, is another run
    for changed in (
        ["train.losses=ce"],
        ["train.losses=ce,nacl,ls", "train.loss_params.nacl.alpha=0.5"],
    ):
        with pytest.raises(OodcalibError, match="differs in train.loss"):
            run_benchmark(build_config("smoke", [*SETTINGS, *changed]), run_dir)
    run_benchmark(grown, run_dir)  # back to its own config: nothing to redo


def test_reports_group_by_loss_and_method_against_dice_ce_uc_or_any_pair(grid):
    _, run_dir, _ = grid
    result = runner.invoke(app, ["leaderboard", str(run_dir)])
    assert result.exit_code == 0, result.output
    # no dice_ce in this grid: the default reference is the first loss's UC
    assert "against CE + UC" in result.output and "| ECE NACL + TS |" in result.output
    board = pd.read_csv(run_dir / "leaderboard.csv")
    assert list(board.columns[:3]) == ["loss", "method", "name"]
    reference = board[(board["loss"] == "ce") & (board["method"] == "uc")]
    assert float(reference["ece/clean/diff"].iloc[0]) == 0.0
    result = runner.invoke(app, ["leaderboard", str(run_dir), "--reference", "nacl/ts"])
    assert result.exit_code == 0 and "against NACL + TS" in result.output
    stats = pd.read_csv(run_dir / "leaderboard_stats.csv")
    assert set(stats["reference"]) == {"nacl/ts"} and {"loss", "method"} <= set(stats.columns)
    result = runner.invoke(app, ["leaderboard", str(run_dir), "--reference", "focal/uc"])
    assert result.exit_code == 2 and "'focal/uc' not in results" in result.output
    summary = runner.invoke(app, ["summary", str(run_dir), "--metric", "ece"])
    assert summary.exit_code == 0 and "metric loss method" in summary.output
    assert " NACL     TS " in summary.output
    figure = runner.invoke(app, ["figures", str(run_dir), "--summary", "--metric", "ace"])
    assert figure.exit_code == 0, figure.output
    assert (run_dir / "figures" / "summary_ace.png").stat().st_size > 10_000
    case = (
        pd.read_csv(run_dir / "results.csv", dtype={"case": str})
        .query("domain == 'clean'")["case"]
        .iloc[0]
    )
    figure = runner.invoke(
        app,
        [
            "figures",
            str(run_dir),
            "--case",
            case,
            "--domain",
            "clean",
            "--loss",
            "nacl",
            "--method",
            "ts",
        ],
    )
    assert figure.exit_code == 0, figure.output
    assert any(p.name.startswith(f"nacl_clean_{case}") for p in (run_dir / "figures").iterdir())
    figure = runner.invoke(
        app, ["figures", str(run_dir), "--case", case, "--domain", "clean", "--loss", "focal"]
    )
    assert figure.exit_code == 2 and "loss 'focal' is not trained in this run" in figure.output


def test_loss_param_sweep_trains_one_net_per_value_and_plots_it(grid):
    _, run_dir, _ = grid
    result = runner.invoke(
        app, ["ablate", str(run_dir), "--loss-param", "nacl.alpha=0.05,0.3", "--methods", "uc"]
    )
    assert result.exit_code == 0, result.output
    out = run_dir / "ablation" / "loss_param"
    assert (out / "nacl.alpha=0.05" / "fold1" / "checkpoint.pt").exists()
    assert not (out / "nacl.alpha=0.3").exists()  # the grid's own nacl: not trained again
    sweep = pd.read_csv(out / "nacl.alpha" / "results.csv", dtype={"setting": str})
    assert set(sweep["setting"]) == {"0.05", "0.3"} and set(sweep["method"]) == {"uc"}
    # alpha = 0.3 is the grid's own nacl: its results are the grid's
    grid_rows = pd.read_csv(run_dir / "results.csv", dtype={"case": str})
    mine = grid_rows[(grid_rows["loss"] == "nacl") & (grid_rows["method"] == "uc")]
    same = sweep[sweep["setting"] == "0.3"]
    np.testing.assert_array_equal(
        same.sort_values(KEY)["value"].to_numpy(), mine.sort_values(KEY)["value"].to_numpy()
    )
    trained = json.loads((out / "nacl.alpha=0.05" / "config.json").read_text())["train"]
    assert (trained["loss"], trained["loss_params"]) == ("nacl", {"alpha": 0.05})
    other = sweep[sweep["setting"] == "0.05"].sort_values(KEY)
    assert (
        other[KEY].reset_index(drop=True).equals(same.sort_values(KEY)[KEY].reset_index(drop=True))
    )
    assert not np.array_equal(other["value"].to_numpy(), same.sort_values(KEY)["value"])
    assert (out / "nacl.alpha" / "sensitivity.png").stat().st_size > 10_000
    assert "| UC | 0.05 |" in (out / "nacl.alpha" / "table.md").read_text()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nacl.alpha", "must look like LOSS.NAME=V1,V2"),
        ("nacl.beta=0.1", "loss 'nacl' has no hyperparameter 'beta'; valid: alpha"),
        ("nope.alpha=0.1", "unknown loss 'nope'; valid names are: ce, dice_ce"),
        ("svls.sigma=0", "sigma must be > 0"),
    ],
)
def test_bad_loss_param_specs_fail_before_any_training(grid, spec, message):
    _, run_dir, _ = grid
    result = runner.invoke(app, ["ablate", str(run_dir), "--loss-param", spec])
    assert result.exit_code == 2 and message in result.output, result.output


def test_loss_params_reach_their_loss_only():
    config = build_config(
        "smoke",
        [
            "train.losses=ce,nacl,ls",
            "train.loss_params.nacl.alpha=0.3",
            "train.loss_params.ls.alpha=0.2",
        ],
    )
    assert run_losses(config) == ["ce", "nacl", "ls"]
    assert [loss_params(config, x) for x in run_losses(config)] == [
        {},
        {"alpha": 0.3},
        {"alpha": 0.2},
    ]
    cell = cell_config(config, "ls")
    assert (cell.train.loss, cell.train.loss_params, cell.train.losses) == (
        "ls",
        {"alpha": 0.2},
        [],
    )
    single = build_config("smoke", ["train.loss=ls", "train.loss_params.alpha=0.2"])
    assert loss_params(single, "ls") == {"alpha": 0.2} and run_losses(single) == ["ls"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["train.losses=ce,nacl", "train.loss_params.alpha=0.3"],
            "ambiguous in a grid of 2 losses; name the loss, e.g. train.loss_params.ce.alpha",
        ),
        (
            ["train.losses=ce,nacl", "train.loss_params.ls.alpha=0.3"],
            "'ls' is not a loss of this run; its losses are: ce, nacl",
        ),
        (
            ["train.losses=ce,nacl", "train.loss_params.nacl.gamma=2"],
            "loss 'nacl' has no hyperparameter 'gamma'",
        ),
    ],
)
def test_misrouted_loss_params_are_refused_before_the_run(overrides, message):
    with pytest.raises(OodcalibError, match=message):
        check_hyperparameters(build_config("smoke", overrides))


def test_unknown_grid_loss_is_refused_with_the_valid_names(tmp_path):
    result = runner.invoke(
        app, ["run", "--preset", "smoke", "--losses", "ce,dice", "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 2 and "unknown loss 'dice'; valid names are: ce" in result.output


def test_the_cost_model_counts_every_cell():
    rates = {"infer_seconds_per_slice": 0.01, "train_seconds_per_step": 0.1}
    one = predict_seconds(build_config("quick"), rates)
    grid = predict_seconds(build_config("losses"), rates)
    # 12 losses on the same 3 folds, each trained 3000 / 1500 = 2x as long as quick's net
    assert grid["train"] == pytest.approx(12 * 2 * one["train"])
    assert grid["passes"] == 0 and one["passes"] > 0  # UC and TS need no augmented passes
    slow = predict_seconds(build_config("losses"), {**rates, "loss_seconds_per_step": 0.05})
    assert slow["train"] - grid["train"] == pytest.approx(12 * 3 * 3000 * 0.05)


def test_claims_on_a_partial_grid_names_the_missing_losses(grid):
    _, run_dir, _ = grid
    result = runner.invoke(app, ["claims", str(run_dir)])
    assert result.exit_code == 2
    assert "need UC on the losses" in result.output and "hl1ace" in result.output
    assert "Traceback" not in result.output


def test_convergence_has_a_row_per_cell(grid):
    from oodcalib.benchmark.reporting.convergence import convergence_table

    _, run_dir, _ = grid
    table = convergence_table(run_dir)
    cells = list(zip(table["loss"], table["fold"], strict=True))
    # one row per trained cell (an earlier test of this module may add a loss to the grid)
    assert len(cells) == len(set(cells)) == len(list(run_dir.glob("losses/*/fold*/train_log.csv")))
    assert {("ce", 0), ("ce", 1), ("nacl", 0), ("nacl", 1)} <= set(cells)
    assert table["gain"].notna().all() and (table["iterations"] == 6).all()
