"""The bad-input catalogue: each case exits with code 2 and one message naming the file or
key, shows no traceback and changes nothing already finished in the run directory."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from oodcalib.benchmark.protocol.runner import run_benchmark
from oodcalib.cli import app
from oodcalib.config import build_config
from oodcalib.segmentation.networks.export import export_torchscript
from tests.segmentation.networks.nnunet_files import write_nnunet

runner = CliRunner()
SMOKE = ["--preset", "smoke"]
#: A run of saved predictions: one calibration scan (phantom000), one clean test scan
BYO_RUN = [
    "run",
    *SMOKE,
    "--out",
    "{tmp}/r",
    "--calibration",
    "{byo}/cal.txt",
    "--set",
    "data.max_test_cases=1",
    "--set",
    "eval.cross_sequence=false",
]

#: (id, arguments with {run}, {tmp}, {file} placeholders, text the message must hold)
CASES = [
    ("iterations-text", ["run", *SMOKE, "--set", "train.iterations=abc"], "train.iterations"),
    ("iterations-float", ["run", *SMOKE, "--set", "train.iterations=1.5"], "train.iterations"),
    ("iterations-zero", ["run", *SMOKE, "--set", "train.iterations=0"], "train.iterations"),
    (
        "label-map-text",
        ["run", *SMOKE, "--data", "nifti", "--set", "data.label_map=LV:1"],
        "data.label_map",
    ),
    (
        "label-map-target",
        ["run", *SMOKE, "--data", "nifti", "--set", "data.label_map={{1: 7}}"],
        "data.label_map",
    ),
    ("max-test-zero", ["run", *SMOKE, "--set", "data.max_test_cases=0"], "data.max_test_cases"),
    (
        "fractions-sum",
        ["run", *SMOKE, "--set", "data.split_fractions=(0.6, 0.2, 0.9)"],
        "data.split_fractions",
    ),
    ("roi-negative", ["run", *SMOKE, "--set", "eval.roi_size=-3"], "eval.roi_size"),
    ("num-aug-zero", ["run", *SMOKE, "--set", "eval.num_aug=0"], "eval.num_aug"),
    ("bins-zero", ["run", *SMOKE, "--set", "eval.n_bins=0"], "eval.n_bins"),
    ("repeats-zero", ["run", *SMOKE, "--set", "eval.repeats=0"], "eval.repeats"),
    ("severity-six", ["run", *SMOKE, "--set", "eval.severity=6"], "eval.severity"),
    ("val-zero", ["run", *SMOKE, "--set", "data.val_per_fold=0"], "data.val_per_fold"),
    ("orientation", ["run", *SMOKE, "--set", "data.orientation=sideways"], "data.orientation"),
    ("frame", ["run", *SMOKE, "--data", "nifti", "--set", "data.frame=XX"], "data.frame"),
    ("lr-negative", ["run", *SMOKE, "--set", "train.lr=-1"], "train.lr"),
    ("unknown-key", ["run", *SMOKE, "--set", "train.epochz=3"], "train.epochz"),
    ("unknown-preset", ["run", "--preset", "huge"], "huge"),
    ("unknown-method", ["run", *SMOKE, "--set", "eval.methods=nope"], "nope"),
    ("unknown-loss", ["run", *SMOKE, "--losses", "ce,nope"], "nope"),
    ("root-without-source", ["run", *SMOKE, "--data-root", "{tmp}"], "data.root"),
    (
        "label-map-acdc",
        [
            "run",
            *SMOKE,
            "--data",
            "acdc",
            "--data-root",
            "{tmp}",
            "--set",
            "data.label_map={{1: 3}}",
        ],
        "data.label_map",
    ),
    ("scheduler-without-dask", ["run", *SMOKE, "--scheduler", "tcp://127.0.0.1:1"], "--scheduler"),
    ("backend", ["run", *SMOKE, "--backend", "nope"], "backend"),
    ("out-is-a-file", ["run", *SMOKE, "--out", "{file}"], "{file}"),
    ("out-under-a-file", ["run", *SMOKE, "--out", "{file}/run"], "{file}"),
    ("corrupt-out-file", ["corrupt", "--out", "{file}"], "{file}"),
    (
        "empty-acdc-root",
        ["run", *SMOKE, "--data", "acdc", "--data-root", "{tmp}/empty", "--out", "{tmp}/r"],
        "empty",
    ),
    (
        "glob-matches-nothing",
        [
            "run",
            *SMOKE,
            "--data",
            "nifti",
            "--out",
            "{tmp}/r",
            "--set",
            "data.nifti_images={tmp}/none*.nii.gz",
        ],
        "none*.nii.gz",
    ),
    ("domain-unknown-key", ["run", *SMOKE, "--domain", "x=source=nifti; colour=red"], "colour"),
    ("domain-built-in-name", ["run", *SMOKE, "--domain", "motion=source=nifti"], "motion"),
    (
        "changed-config",
        ["run", *SMOKE, "--out", "{run}", "--set", "train.iterations=7"],
        "train.iterations",
    ),
    ("ablate-nothing", ["ablate", "{run}"], "--num-aug"),
    ("ablate-severity", ["ablate", "{run}", "--severity", "9"], "severity"),
    ("ablate-method", ["ablate", "{run}", "--severity", "1", "--methods", "lts"], "lts"),
    ("figures-nothing", ["figures", "{run}"], "--case"),
    (
        "figures-slice",
        ["figures", "{run}", "--case", "x", "--domain", "clean", "--slice", "-1"],
        "--slice",
    ),
    ("figures-case", ["figures", "{run}", "--case", "nope", "--domain", "clean"], "nope"),
    ("leaderboard-reference", ["leaderboard", "{run}", "--reference", "nope"], "nope"),
    ("leaderboard-test", ["leaderboard", "{run}", "--test", "nope"], "nope"),
    ("leaderboard-out-dir", ["leaderboard", "{run}", "--out", "{tmp}"], "{tmp}"),
    ("summary-metric", ["summary", "{run}", "--metric", "nope"], "nope"),
    ("summary-not-a-run", ["summary", "{tmp}"], "{tmp}"),
    ("evaluate-taken-name", ["evaluate", "{run}", "--domain", "lge=source=nifti"], "lge"),
    ("evaluate-not-a-run", ["evaluate", "{tmp}", "--domain", "x=source=phantom"], "config.json"),
    # your own network (--model): each bad input names its file
    ("model-kind", ["run", *SMOKE, "--model", "onnx:net.onnx"], "onnx"),
    ("model-no-spec", ["run", *SMOKE, "--model", "torchscript"], "KIND:SPEC"),
    (
        "model-no-calibration",
        ["run", *SMOKE, "--model", "torchscript:{byo}/ok.pt"],
        "--calibration",
    ),
    ("calibration-no-model", ["run", *SMOKE, "--calibration", "{byo}/cal.txt"], "--model"),
    (
        "model-wrong-output-shape",
        ["run", *SMOKE, "--model", "torchscript:{byo}/three.pt", "--calibration", "{byo}/cal.txt"],
        "{byo}/three.pt: the network maps input",
    ),
    (
        "model-classes-not-covering-k",
        ["run", *SMOKE, "--model", "torchscript:{byo}/rv.pt", "--calibration", "{byo}/cal.txt"],
        "{byo}/rv.json: 'classes'",
    ),
    (
        "model-sidecar-missing",
        ["run", *SMOKE, "--model", "torchscript:{byo}/bare.pt", "--calibration", "{byo}/cal.txt"],
        "{byo}/bare.json: sidecar not found",
    ),
    (
        "calibration-unknown-patient",
        ["run", *SMOKE, "--model", "torchscript:{byo}/ok.pt", "--calibration", "{byo}/nobody.txt"],
        "{byo}/nobody.txt: names cases not in the data",
    ),
    (
        "predictions-missing-scan",
        [*BYO_RUN, "--model", "predictions:{byo}/empty"],
        "{byo}/empty/calibration/phantom000.npz: missing scan",
    ),
    (
        "predictions-not-summing-to-1",
        [*BYO_RUN, "--model", "predictions:{byo}/half"],
        "{byo}/half/calibration/phantom000.npz: probabilities do not sum to 1",
    ),
    (
        "predictions-geometry-mismatch",
        [*BYO_RUN, "--model", "predictions:{byo}/small"],
        "{byo}/small/calibration/phantom000.npz: geometry mismatch",
    ),
]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("finished")
    config = build_config(
        "smoke", ["data.n_folds=1", "eval.methods=uc,ts", "eval.repeats=1", "data.max_test_cases=2"]
    )
    run_benchmark(config, run_dir)
    return run_dir


@pytest.fixture(scope="module")
def byo(tmp_path_factory):
    """Bad networks and saved predictions of one's own (``--model``)."""
    root = tmp_path_factory.mktemp("byo")
    export_torchscript(torch.nn.Conv2d(1, 4, 1), root / "ok.pt", size=64, spacing=1.5)
    export_torchscript(torch.nn.Conv2d(1, 3, 1), root / "three.pt", size=64, spacing=1.5)
    shutil.copyfile(root / "three.pt", root / "rv.pt")
    sidecar = json.loads((root / "three.json").read_text())
    (root / "rv.json").write_text(json.dumps({**sidecar, "classes": ["background", "RV", "MYO"]}))
    shutil.copyfile(root / "ok.pt", root / "bare.pt")
    (root / "cal.txt").write_text("phantom000\n")
    (root / "nobody.txt").write_text("phantom000\nnobody\n")
    (root / "empty").mkdir()
    affine = np.diag([1.5, 1.5, 8.0, 1.0])
    probs = np.full((4, 64, 64, 8), 0.25, np.float32)
    for name, stored in (("half", probs * 0.5), ("small", probs[:, :5, :5])):
        for domain, case in (("calibration", "phantom000"), ("clean", "phantom001")):
            (root / name / domain).mkdir(parents=True)
            write_nnunet(root / name / domain / case, stored, affine)
    return root


def _state(folder: Path) -> dict:
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize(("args", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gets_one_clear_message(finished, byo, tmp_path, monkeypatch, args, needle):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "a_file").write_text("not a folder")
    values = {"run": str(finished), "tmp": str(tmp_path), "file": str(tmp_path / "a_file")}
    values["byo"] = str(byo)
    args = [a.format(**values) for a in args]
    needle = needle.format(**values)
    before = _state(finished)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    assert needle in result.output, result.output
    assert _state(finished) == before  # nothing finished was touched
    assert not (tmp_path / "results").exists() or not any(
        (tmp_path / "results").rglob("config.json")
    )  # a refused start locks no directory


def test_the_catalogue_is_large_enough():
    assert len(CASES) >= 30 and len({c[0] for c in CASES}) == len(CASES)
