import pytest
from typer.testing import CliRunner

from oodcalib.cli import app

runner = CliRunner()


def test_run_smoke_prints_the_table_and_summary_command(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", "--preset", "smoke", "--out", str(out),
                                 "--set", "eval.repeats=1", "--set", "eval.corruptions=spike"])
    assert result.exit_code == 0, result.output
    for token in ("ECE %", "SCE %", "DICE %", "UC", "TS", "clean", "spike", "lge"):
        assert token in result.output
    assert (out / "results.csv").exists()
    again = runner.invoke(app, ["summary", str(out)])
    assert again.exit_code == 0 and "ECE %" in again.output


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
