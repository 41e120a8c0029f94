from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from oodcalib.cli import app
from oodcalib.config import build_config

runner = CliRunner()


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    result = runner.invoke(
        app,
        [
            "run",
            "--preset",
            "smoke",
            "--out",
            str(out),
            "--set",
            "eval.repeats=1",
            "--set",
            "eval.corruptions=spike",
            "--set",
            "eval.methods=uc,ts,lts,alea,proposed",
        ],
    )
    assert result.exit_code == 0, result.output
    return out, result


def test_run_smoke_prints_the_table_and_summary_command(smoke):
    out, result = smoke
    for token in (
        "ECE %",
        "SCE %",
        "DICE %",
        "UC",
        "TS",
        "LTS",
        "ALEA",
        "PROPOSED",
        "clean",
        "spike",
        "lge",
    ):
        assert token in result.output
    assert (out / "results.csv").exists()
    assert "| ECE Proposed |" in result.output  # the leaderboard, marked against LTS
    assert any(mark in result.output for mark in "†‡∗")
    assert (out / "leaderboard.csv").exists()
    again = runner.invoke(app, ["summary", str(out)])
    assert again.exit_code == 0 and "ECE %" in again.output
    summary = __import__("pandas").read_csv(out / "summary.csv")
    assert {"ace", "cece", "brier", "nll", "hd95"} <= set(summary["metric"])
    other = runner.invoke(app, ["summary", str(out), "--metric", "ace,hd95,micro_ace"])
    assert other.exit_code == 0, other.output
    assert "ACE %" in other.output and "HD95" in other.output and "MICRO_ACE %" in other.output
    assert "SCE" not in other.output
    bad = runner.invoke(app, ["summary", str(out), "--metric", "bogus"])
    assert bad.exit_code == 2 and "present: " in bad.output


def test_leaderboard_ablate_and_figures_on_a_run(smoke):
    out, _ = smoke
    board = runner.invoke(
        app, ["leaderboard", str(out), "--metric", "ece", "sce", "--out", str(out / "board.csv")]
    )
    assert board.exit_code == 0, board.output
    assert "ECE Proposed" in board.output and (out / "board.csv").exists()
    assert "SCE UC" in board.output and "Dice" not in board.output
    ablate = runner.invoke(app, ["ablate", str(out), "--num-aug", "1", "2"])
    assert ablate.exit_code == 0, ablate.output
    assert "| Proposed | 1 |" in ablate.output
    assert (out / "ablation" / "num_aug" / "table.csv").exists()
    case = __import__("pandas").read_csv(out / "results.csv").query("domain == 'spike'")
    case_id = case["case"].iloc[0]
    figs = runner.invoke(app, ["figures", str(out), "--case", case_id, "--domain", "spike"])
    assert figs.exit_code == 0, figs.output
    pngs = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert len(pngs) == 3 and all(case_id in p for p in pngs)
    bad = runner.invoke(app, ["figures", str(out), "--case", case_id, "--domain", "blur"])
    assert bad.exit_code == 2 and "spike" in bad.output
    none = runner.invoke(app, ["ablate", str(out)])
    assert none.exit_code == 2 and "--components" in none.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--preset", "huge"], "valid names are: losses, losses_full, paper, quick, smoke"),
        (["run", "--preset", "smoke", "--set", "eval.methods=uc,bogus"], "valid names are"),
        (["run", "--preset", "smoke", "--set", "eval.corruptions=blur"], "bias_field"),
        (["run", "--preset", "smoke", "--data", "mnist"], "acdc"),
        (["run", "--preset", "smoke", "--data", "acdc"], "--data-root"),
    ],
)
def test_bad_names_fail_with_the_valid_ones(args, message, tmp_path):
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert message in result.output


def test_list_and_corrupt(tmp_path):
    listing = runner.invoke(app, ["list"])
    assert listing.exit_code == 0 and "motion" in listing.output and "dice_ce" in listing.output
    result = runner.invoke(
        app,
        [
            "corrupt",
            "--out",
            str(tmp_path),
            "--cases",
            "1",
            "--size",
            "64",
            "--corruption",
            "spike",
        ],
    )
    assert result.exit_code == 0, result.output
    assert list((tmp_path / "spike").glob("*.nii.gz"))


def test_rescore_adds_methods_and_scores_from_the_caches(smoke):
    """``rescore --add`` fits the new methods on the cached calibration logits, rescores
    every fit with every registered metric, and runs no segmentation training or pass."""
    import json

    import pandas as pd

    from oodcalib.metrics import METRICS

    out, _ = smoke
    checkpoint = out / "fold0" / "checkpoint.pt"
    trained = checkpoint.stat().st_mtime_ns
    counts = json.loads((out / "fold0" / "forward_passes.json").read_text())
    result = runner.invoke(app, ["rescore", str(out), "--add", "ir,platt"])
    assert result.exit_code == 0, result.output
    assert checkpoint.stat().st_mtime_ns == trained
    after = json.loads((out / "fold0" / "forward_passes.json").read_text())
    for stage in ("logits", "passes", "pool", "train"):
        assert after.get(stage, 0) == counts.get(stage, 0), stage
    results = pd.read_csv(out / "results.csv")
    assert {"ir", "platt"} <= set(results["method"])
    assert set(METRICS) <= set(results["metric"])
    per_method = results.groupby("method")["metric"].nunique()
    assert (per_method == len(METRICS)).all()
    assert json.loads((out / "config.json").read_text())["eval"]["methods"][-2:] == ["ir", "platt"]
    assert "micro-ACE" in (out / "leaderboard.md").read_text()
    # a second rescore finds everything current and rewrites no per-case file
    files = sorted((out / "fold0" / "per_case").glob("*.csv"))
    stamps = [f.stat().st_mtime_ns for f in files]
    again = runner.invoke(app, ["rescore", str(out)])
    assert again.exit_code == 0, again.output
    assert [f.stat().st_mtime_ns for f in files] == stamps
    unknown = runner.invoke(app, ["rescore", str(out), "--add", "bogus"])
    assert unknown.exit_code == 2 and "valid names are" in unknown.output


def test_dataset_reliability_and_summary_figures(smoke):
    out, _ = smoke
    figs = runner.invoke(
        app,
        [
            "figures",
            str(out),
            "--dataset-reliability",
            "--domain",
            "lge",
            "--summary",
            "--metric",
            "sce",
        ],
    )
    assert figs.exit_code == 0, figs.output
    names = sorted(p.name for p in (out / "figures").glob("dataset_reliability_*_lge.png"))
    assert "dataset_reliability_uc_lge.png" in names and len(names) >= 5
    assert (out / "figures" / "summary_sce.png").stat().st_size > 10_000
    bad = runner.invoke(app, ["figures", str(out), "--dataset-reliability", "--domain", "mars"])
    assert bad.exit_code == 2 and "present: " in bad.output
    neither = runner.invoke(app, ["figures", str(out)])
    assert neither.exit_code == 2 and "--dataset-reliability" in neither.output


def test_gallery_shows_one_patient_in_every_artifact_domain(smoke):
    from oodcalib.benchmark.protocol.case_view import domain_cases
    from oodcalib.benchmark.reporting.domain_gallery import heart_slice

    out, _ = smoke
    shown = domain_cases(out)
    clean_id = shown["clean"].case_id
    assert list(shown) == ["clean", "spike", "lge"]  # the fixture's domains, table order
    assert shown["spike"].case_id == clean_id != shown["lge"].case_id
    z = heart_slice(shown["clean"])
    assert not np.array_equal(shown["spike"].image[z], shown["clean"].image[z])
    figs = runner.invoke(app, ["figures", str(out), "--gallery", "--case", clean_id])
    assert figs.exit_code == 0, figs.output
    assert (out / "figures" / f"gallery_{clean_id}.png").stat().st_size > 10_000
    bad = runner.invoke(app, ["figures", str(out), "--gallery", "--case", "nobody"])
    assert bad.exit_code == 2 and "valid names are" in bad.output


def test_claims_checks_table_1_on_a_summary(tmp_path):
    from oodcalib.benchmark.reporting.paper_claims import paper_summary

    run = tmp_path / "run"
    run.mkdir()
    paper_summary().to_csv(run / "summary.csv", index=False)
    result = runner.invoke(app, ["claims", str(run)])
    assert result.exit_code == 0, result.output
    rows = (run / "claims.md").read_text().splitlines()[2:]
    assert len(rows) == 7 and all(r.endswith("| yes |") for r in rows)
    partial = tmp_path / "partial"
    partial.mkdir()
    frame = paper_summary()
    frame[frame["method"] != "lts"].to_csv(partial / "summary.csv", index=False)
    missing = runner.invoke(app, ["claims", str(partial)])
    assert missing.exit_code == 2 and "needs lts" in missing.output


def test_phantom_figure_command(tmp_path):
    out = tmp_path / "figs" / "phantom.png"
    result = runner.invoke(
        app, ["phantom", "--out", str(out), "--cases", "1", "--seed", "2", "--size", "64"]
    )
    assert result.exit_code == 0, result.output
    assert str(out) in result.output and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "phantom000" in result.output and "lge_phantom000" in result.output
    assert out.stat().st_size > 10_000
    bad = runner.invoke(app, ["phantom", "--out", str(out), "--size", "16"])
    assert bad.exit_code == 2


def test_a_start_that_fails_on_its_data_does_not_lock_the_directory(tmp_path):
    out = tmp_path / "r"
    result = runner.invoke(
        app, ["run", "--preset", "smoke", "--out", str(out), "--set", "data.train_per_fold=40"]
    )
    assert result.exit_code == 2 and "data.train_per_fold=40" in result.output
    assert not (out / "config.json").exists() and not (out / "splits.json").exists()


def test_paths_are_stored_absolute_and_corrupt_takes_set(tmp_path, monkeypatch):
    from oodcalib.cli.options import _config

    monkeypatch.chdir(tmp_path)
    config = _config("smoke", "acdc", Path("data/acdc"), Path("lge"), [], None)
    assert config.data.root == str(tmp_path / "data" / "acdc")
    assert config.data.lge_root == str(tmp_path / "lge")
    config = _config("smoke", "nifti", None, None, ["data.nifti_images=imgs/*.nii.gz"], None)
    assert config.data.nifti_images == str(tmp_path / "imgs" / "*.nii.gz")
    result = runner.invoke(
        app,
        [
            "corrupt",
            "--out",
            str(tmp_path / "c"),
            "--data",
            "nifti",
            "--set",
            "data.nifti_images=none/*.nii.gz",
        ],
    )
    assert result.exit_code == 2 and "none/*.nii.gz: no file matches" in result.output


def test_a_resumed_run_predicts_from_its_finished_cells(tmp_path, capsys):
    import json

    from oodcalib.benchmark.protocol.fold import cell_dir
    from oodcalib.cli.run_report import announce_cost

    config = build_config("smoke", ["data.n_folds=4"])
    finished = [
        (0, {"train": 100.0, "metrics": 20.0}),
        (1, {"train": 140.0}),
        (2, {"train": 900.0}),
    ]
    for fold, seconds in finished:
        cell = cell_dir(config, tmp_path, fold, None)
        cell.mkdir(parents=True)
        (cell / "checkpoint.pt").write_bytes(b"")
        (cell / "timings.json").write_text(json.dumps(seconds))
    announce_cost(config, tmp_path, min_steps=0)
    out = capsys.readouterr().out
    # one cell left; the median of 120, 140 and 900 s (a cell slowed by other work) is
    # 140 s = 2.3 min, where the mean would say 6.0
    assert "1 of 4 (loss, fold) cells to train; predicted from the 3 finished cells" in out
    assert "(median 2.3 min a cell, every stage): 2 min" in out
