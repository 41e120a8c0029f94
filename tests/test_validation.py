"""Validation before work and clear failures (issue 28): what the bad-input catalogue
(``test_bad_input.py``) cannot show with one command line."""

from __future__ import annotations

import errno
import json
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from oodcalib.atomic import write_csv, write_json
from oodcalib.baselines import LocalTemperatureScaling, ScanLogits, TemperatureScaling
from oodcalib.benchmark.names import domain_names
from oodcalib.benchmark.protocol.preflight import check_model_size, unet_parameters
from oodcalib.benchmark.reporting.leaderboard import markdown_table
from oodcalib.cli import app
from oodcalib.config import build_config
from oodcalib.config.rules import NAME_MAX, longest_file_name
from oodcalib.errors import DataError, DiskFullError, OodcalibError, UnknownNameError
from oodcalib.progress import Lines, progress
from oodcalib.segmentation.unet import UNet

runner = CliRunner()


def test_a_method_given_twice_runs_once():
    config = build_config("smoke", ["eval.methods=uc,UC,lts,uc, lts"])
    assert config.eval.methods == ["uc", "lts"]


def test_learning_rates_must_be_finite():
    for value in ("inf", "-inf", "nan", "1e400"):
        with pytest.raises(OodcalibError, match="train.lr"):
            build_config("smoke", [f"train.lr={value}"])


def test_the_depth_rule_names_the_largest_depth_that_fits():
    with pytest.raises(OodcalibError, match=r"model.depth <= 5 .*multiple of 64"):
        build_config("smoke", ["data.size=80", "model.depth=7"])  # 80 = 16 x 5
    assert build_config("smoke", ["data.size=80", "model.depth=5"]).model.depth == 5


def test_the_longest_file_name_is_the_one_checked(tmp_path):
    config = build_config("smoke", ["eval.repeats=12"], validate=False)
    config.eval.domains = {"x" * 200: {"source": "phantom"}}
    key, name = longest_file_name(config)
    assert key == "eval.domains." + "x" * 200
    assert name == "proposed_r11@" + "x" * 200 + ".bins.csv.gz"
    # the longest name a run may take, with the suffix of its temporary file, is the
    # longest the file system takes: the oracle is the file system itself
    longest = NAME_MAX - len("proposed_r11@.bins.csv.gz") - len("..12345678.tmp")
    for length, allowed in ((longest, True), (longest + 1, False)):
        domain = "y" * length
        overrides = ["eval.repeats=12", f"eval.domains.{domain}.source=phantom"]
        temporary = tmp_path / f".proposed_r11@{domain}.bins.csv.gz.12345678.tmp"
        if allowed:
            build_config("smoke", overrides)
            temporary.touch()
        else:
            with pytest.raises(OodcalibError, match="too long"):
                build_config("smoke", overrides)
            with pytest.raises(OSError, match="too long"):
                temporary.touch()


def test_unet_parameters_are_counted_without_allocating():
    real = sum(p.numel() for p in UNet(1, 4, width=6, depth=4).parameters())  # the oracle
    assert unet_parameters(6, 4) == real


def test_a_net_larger_than_the_memory_is_refused_before_any_work():
    config = build_config("smoke", ["model.width=256"])
    needed = unet_parameters(256, 3) * 16
    check_model_size(config, memory=needed)  # fits exactly
    with pytest.raises(OodcalibError, match=r"model.width=256: .* GiB"):
        check_model_size(config, memory=needed - 1)


def _scan() -> ScanLogits:
    label = np.zeros((1, 8, 8), np.uint8)
    label[0, 2:6, 2:6] = 3
    return ScanLogits("a", np.zeros((1, 8, 8), np.float32), np.zeros((1, 4, 8, 8)), label)


@pytest.mark.parametrize(
    "calibrator",
    [
        LocalTemperatureScaling(iterations=0),
        LocalTemperatureScaling(lr=float("inf")),
        TemperatureScaling(max_iter=0),
    ],
    ids=["lts-0-iterations", "lts-inf-lr", "ts-0-iterations"],
)
def test_learned_calibrators_refuse_to_fit_with_settings_out_of_range(calibrator):
    with pytest.raises(OodcalibError, match=r"calib\.(lts|ts)\."):
        calibrator.fit([_scan()], torch.nn.Identity())


def test_errors_cross_process_boundaries():
    # a loky or dask worker's error reaches the parent pickled
    for error in (
        DataError("a.nii", "bad"),
        DiskFullError("r.csv", "full"),
        UnknownNameError("method", "x", ["ts"]),
    ):
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error) and str(again) == str(error)


def test_a_full_disk_names_the_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    path = tmp_path / "results.csv"
    write_csv(path, pd.DataFrame({"a": [1]}))
    before = path.read_bytes()

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    with pytest.raises(DiskFullError, match=r"results\.csv: cannot write: no space left"):
        write_csv(path, pd.DataFrame({"a": [2]}))
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_full_disk_during_a_command_is_one_line(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    rows = [
        (method, "dice_ce", 0, 0, "clean", f"p{case}", metric, 0.1 * case + (method == "uc"))
        for method in ("uc", "lts")
        for case in range(3)
        for metric in ("ece", "sce", "dice")
    ]
    pd.DataFrame(
        rows, columns=["method", "loss", "fold", "repeat", "domain", "case", "metric", "value"]
    ).to_csv(run_dir / "results.csv", index=False)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("oodcalib.atomic.os.replace", full)
    result = runner.invoke(app, ["leaderboard", str(run_dir)])
    assert result.exit_code == 2, result.output
    assert "leaderboard.csv: cannot write: no space left" in result.output
    assert "Traceback" not in result.output and "Errno" not in result.output


def test_a_markdown_header_holding_a_bar_keeps_its_column():
    stats = pd.DataFrame(
        {
            "metric": "ece",
            "domain": ["clean", "gx"],
            "method": "uc",
            "n": 2,
            "mean": [0.1, 0.2],
            "diff": 0.0,
            "p_value": None,
            "mark": "",
        }
    )
    table = markdown_table(stats, "uc", domains={"clean": "Intra", "gx": "GE | 1.5 T"})
    rows = [line for line in table.splitlines() if line.startswith("|")]
    assert rows[0] == r"| | Intra | GE \| 1.5 T |"
    assert {row.replace(r"\|", "").count("|") for row in rows} == {4}  # 3 columns


def test_a_new_domain_is_headed_by_its_kind_unless_it_names_a_header():
    config = build_config(
        "smoke",
        [
            "eval.domains.mnms.source=nifti",
            "eval.domains.mnms.kind=vendor",
            "eval.domains.kids.source=nifti",
            "eval.domains.kids.header=Children",
        ],
    )
    headers = domain_names(config)
    assert headers["mnms"] == "mnms (vendor)" and headers["kids"] == "Children"


def test_a_recorded_config_that_fails_todays_checks_is_named(tmp_path):
    run_dir = tmp_path / "run"
    raw = build_config("smoke").to_dict()
    raw["train"]["lr"] = float("inf")  # written by a version that let it through
    write_json(run_dir / "config.json", raw)
    result = runner.invoke(app, ["run", "--preset", "smoke", "--out", str(run_dir)])
    assert result.exit_code == 2, result.output
    assert "config.json" in result.output and "train.lr=inf" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert json.loads((run_dir / "config.json").read_text())["train"]["lr"] == float("inf")


def test_progress_is_plain_lines_when_stderr_is_not_a_terminal(monkeypatch):
    monkeypatch.delenv("OODCALIB_PROGRESS", raising=False)
    assert isinstance(progress(range(3)), Lines)  # pytest captures stderr: not a TTY
    monkeypatch.setenv("OODCALIB_PROGRESS", "bars")
    assert not isinstance(progress(range(3)), Lines)


def test_plain_lines_are_sparse():
    ticks = iter(np.arange(0, 10_000, 0.5))  # 0.5 s per step
    lines: list[str] = []

    class Sink:
        def write(self, text):
            lines.append(text)

        def flush(self):
            pass

    for _ in Lines(range(1000), "train", interval=60, clock=lambda: next(ticks), stream=Sink()):
        pass
    printed = [line for line in "".join(lines).splitlines() if line]
    # 500 s: a line when a new tenth is passed a minute after the last line, 8 in all,
    # then the closing line; a line per step would be 1,000
    assert len(printed) == 9 and printed[-1] == "train: done (1000/1000) in 8.3 min"
    assert printed[0] == "train: 12% (120/1000), 1.0 min elapsed, about 7.3 min left"


def test_a_refused_start_leaves_nothing_that_refuses_the_corrected_one(tmp_path):
    out = tmp_path / "run"
    common = ["run", "--preset", "smoke", "--out", str(out), "--set", "eval.methods=uc"]
    common += ["--set", "data.n_folds=1", "--set", "eval.repeats=1", "--set", "eval.corruptions=[]"]
    for bad in ("train.lr=inf", "calib.lts.lr=-1", "calib.proposed.iterations=0", "model.depth=8"):
        refused = runner.invoke(app, [*common, "--set", bad])
        assert refused.exit_code == 2, refused.output
        assert not (out / "config.json").exists()
    fixed = runner.invoke(app, [*common, "--set", "train.lr=1e-3"])
    assert fixed.exit_code == 0, fixed.output
    assert "run: (loss, fold) cells: 100% (1/1)" in fixed.output  # the run's time left
