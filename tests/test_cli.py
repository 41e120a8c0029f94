import pytest
from typer.testing import CliRunner

from oodcalib.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    result = runner.invoke(app, ["run", "--preset", "smoke", "--out", str(out),
                                 "--set", "eval.repeats=1", "--set", "eval.corruptions=spike"])
    assert result.exit_code == 0, result.output
    return out, result


def test_run_smoke_prints_the_table_and_summary_command(smoke):
    out, result = smoke
    for token in ("ECE %", "SCE %", "DICE %", "UC", "TS", "LTS", "ALEA", "PROPOSED", "clean",
                  "spike", "lge"):
        assert token in result.output
    assert (out / "results.csv").exists()
    assert "| ECE Proposed |" in result.output  # the leaderboard, marked against LTS
    assert any(mark in result.output for mark in "†‡∗")
    assert (out / "leaderboard.csv").exists()
    again = runner.invoke(app, ["summary", str(out)])
    assert again.exit_code == 0 and "ECE %" in again.output


def test_leaderboard_ablate_and_figures_on_a_run(smoke):
    out, _ = smoke
    board = runner.invoke(app, ["leaderboard", str(out), "--metric", "ece", "sce", "--out",
                                   str(out / "board.csv")])
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


@pytest.mark.parametrize(("args", "message"), [
    (["run", "--preset", "huge"], "valid names are: paper, quick, smoke"),
    (["run", "--preset", "smoke", "--set", "eval.methods=uc,platt"], "valid names are"),
    (["run", "--preset", "smoke", "--set", "eval.corruptions=blur"], "bias_field"),
    (["run", "--preset", "smoke", "--data", "mnist"], "acdc"),
    (["run", "--preset", "smoke", "--data", "acdc"], "--data-root"),
])
def test_bad_names_fail_with_the_valid_ones(args, message, tmp_path):
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert message in result.output


def test_list_and_corrupt(tmp_path):
    listing = runner.invoke(app, ["list"])
    assert listing.exit_code == 0 and "motion" in listing.output and "dice_ce" in listing.output
    result = runner.invoke(app, ["corrupt", "--out", str(tmp_path), "--cases", "1",
                                 "--size", "64", "--corruption", "spike"])
    assert result.exit_code == 0, result.output
    assert list((tmp_path / "spike").glob("*.nii.gz"))
