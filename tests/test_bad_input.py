"""The bad-input catalogue: each case exits with code 2 and one message naming the file or
key, shows no traceback and changes nothing already finished in the run directory."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from oodcalib.benchmark.protocol.runner import run_benchmark
from oodcalib.cli import app
from oodcalib.config import build_config
from oodcalib.run_lock import LOCK_NAME
from oodcalib.segmentation.networks.export import export_torchscript
from tests.segmentation.networks.nnunet_files import write_nnunet

runner = CliRunner()
SMOKE = ["--preset", "smoke"]
#: ``oodcalib inspect`` of a NIfTI glob (the broken files of the ``bad`` fixture)
INSPECT = ["inspect", "--data", "nifti", "--out", "{tmp}/sheet.png", "--set"]
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

#: (id, arguments with {run}, {tmp}, {file}, {bad} placeholders, text the message must hold)
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
    # -- values knowable before any work, refused before any is done (issue 28)
    ("lr-inf", ["run", *SMOKE, "--set", "train.lr=inf"], "train.lr"),
    ("lr-nan", ["run", *SMOKE, "--set", "train.lr=nan"], "train.lr"),
    ("lr-zero", ["run", *SMOKE, "--set", "train.lr=0"], "train.lr"),
    ("methods-empty", ["run", *SMOKE, "--set", "eval.methods=[]"], "eval.methods"),
    ("depth-vs-size", ["run", *SMOKE, "--set", "model.depth=8"], "model.depth"),
    ("depth-one", ["run", *SMOKE, "--set", "model.depth=1"], "model.depth"),
    ("depth-vs-input", ["run", *SMOKE, "--set", "data.input_size=66"], "data.input_size"),
    ("width-huge", ["run", *SMOKE, "--set", "model.width=1e8"], "model.width"),
    ("width-memory", ["run", *SMOKE, "--set", "model.width=4096", "--set", "model.depth=6"], "GiB"),
    ("width-zero", ["run", *SMOKE, "--set", "model.width=0"], "model.width"),
    ("dropout-one", ["run", *SMOKE, "--set", "model.dropout=1"], "model.dropout"),
    ("spacing-inf", ["run", *SMOKE, "--set", "data.spacing=inf"], "data.spacing"),
    ("seed-negative", ["run", *SMOKE, "--seed", "-1"], "seed"),
    # -- calibrators: each checks its own hyperparameters' ranges
    ("lts-lr-negative", ["run", *SMOKE, "--set", "calib.lts.lr=-1"], "calib.lts.lr"),
    ("proposed-lr-inf", ["run", *SMOKE, "--set", "calib.proposed.lr=inf"], "calib.proposed.lr"),
    (
        "proposed-iterations-zero",
        ["run", *SMOKE, "--set", "calib.proposed.iterations=0"],
        "calib.proposed.iterations",
    ),
    ("lts-iterations-zero", ["run", *SMOKE, "--set", "calib.lts.iterations=0"], "calib.lts"),
    ("lts-batch-zero", ["run", *SMOKE, "--set", "calib.lts.batch_size=0"], "calib.lts.batch"),
    ("lts-crop-too-big", ["run", *SMOKE, "--set", "calib.lts.crop=128"], "calib.lts.crop"),
    ("proposed-crop", ["run", *SMOKE, "--set", "calib.proposed.crop=30"], "calib.proposed.crop"),
    (
        "proposed-dropout",
        ["run", *SMOKE, "--set", "calib.proposed.shape_dropout=1"],
        "calib.proposed.shape_dropout",
    ),
    ("alea-num-aug-zero", ["run", *SMOKE, "--set", "calib.alea.num_aug=0"], "calib.alea.num_aug"),
    ("ts-max-iter-zero", ["run", *SMOKE, "--set", "calib.ts.max_iter=0"], "calib.ts.max_iter"),
    ("ts-bounds-zero", ["run", *SMOKE, "--set", "calib.ts.bounds=(0, 1)"], "calib.ts.bounds"),
    ("platt-max-iter-zero", ["run", *SMOKE, "--set", "calib.platt.max_iter=0"], "calib.platt"),
    ("ir-pixels-zero", ["run", *SMOKE, "--set", "calib.ir.max_pixels=0"], "calib.ir.max_pixels"),
    # -- losses: each states its ranges (building it checks them)
    (
        "nacl-alpha-negative",
        ["run", *SMOKE, "--set", "train.loss=nacl", "--set", "train.loss_params.alpha=-1"],
        "alpha",
    ),
    (
        "meep-lam-negative",
        ["run", *SMOKE, "--losses", "ce,meep_kl", "--set", "train.loss_params.meep_kl.lam=-0.3"],
        "train.loss_params.meep_kl",
    ),
    (
        "ls-alpha-above-one",
        ["run", *SMOKE, "--set", "train.loss=ls", "--set", "train.loss_params.alpha=2"],
        "alpha",
    ),
    (
        "focal-gamma-nan",
        ["run", *SMOKE, "--set", "train.loss=focal", "--set", "train.loss_params.gamma=nan"],
        "gamma",
    ),
    (
        "dice-weight-negative",
        ["run", *SMOKE, "--set", "train.loss_params.dice_weight=-1"],
        "dice_weight",
    ),
    (
        "ace-bins-zero",
        ["run", *SMOKE, "--set", "train.loss=hl1ace", "--set", "train.loss_params.num_bins=0"],
        "num_bins",
    ),
    # -- one value per key: an option and --set, or --set twice, must agree
    ("two-seeds", ["run", *SMOKE, "--seed", "3", "--set", "seed=5"], "seed"),
    ("preset-as-key", ["run", *SMOKE, "--set", "preset=quick"], "--preset"),
    ("jobs-twice", ["run", *SMOKE, "--jobs", "2", "--set", "n_jobs=3"], "n_jobs"),
    ("key-twice", ["run", *SMOKE, "--set", "train.lr=0.1", "--set", "train.lr=0.2"], "train.lr"),
    # -- test domains: errors name the domain's key, never data.*
    ("domain-name-too-long", ["run", *SMOKE, "--domain", "x" * 250 + "=source=phantom"], "long"),
    (
        "domain-kind-unknown",
        ["run", *SMOKE, "--domain", "x=source=phantom; kind=scanner"],
        "eval.domains.x.kind",
    ),
    (
        "domain-frame",
        ["run", *SMOKE, "--domain", "x=source=nifti; images={tmp}/*.nii; frame=XX"],
        "eval.domains.x.frame",
    ),
    (
        "domain-orientation",
        ["run", *SMOKE, "--domain", "x=source=nifti; images={tmp}/*.nii; orientation=up"],
        "eval.domains.x.orientation",
    ),
    (
        "domain-label-map",
        ["run", *SMOKE, "--domain", "x=source=nifti; images={tmp}/*.nii; label_map={{1: 7}}"],
        "eval.domains.x.label_map",
    ),
    (
        "domain-cases-zero",
        ["run", *SMOKE, "--domain", "x=source=phantom; phantom_cases=0"],
        "eval.domains.x.phantom_cases",
    ),
    ("domain-seed", ["run", *SMOKE, "--domain", "x=source=phantom; seed=-2"], "eval.domains.x"),
    ("domain-no-images", ["run", *SMOKE, "--domain", "x=source=nifti"], "--domain x"),
    (
        "domain-no-files",
        ["run", *SMOKE, "--domain", "x=source=nifti; images={tmp}/none*.nii"],
        "none*.nii",
    ),
    (
        "evaluate-kind",
        ["evaluate", "{run}", "--domain", "x=source=phantom; kind=vendors"],
        "eval.domains.x.kind",
    ),
    # -- analyses a run cannot give
    ("ablate-without-passes", ["ablate", "{run}", "--num-aug", "2"], "alea"),
    ("ablate-without-proposed", ["ablate", "{run}", "--components"], "Proposed"),
    # -- files a new data set brings: each message names the file
    ("nifti-dim0", [*INSPECT, "data.nifti_images={bad}/dim0/*.nii"], "dim0/scan.nii"),
    ("nifti-zero-affine", [*INSPECT, "data.nifti_images={bad}/zero/*.nii"], "affine"),
    ("nifti-nan-affine", [*INSPECT, "data.nifti_images={bad}/nan/*.nii"], "nan/scan.nii"),
    ("nifti-huge-pixel", [*INSPECT, "data.nifti_images={bad}/huge/*.nii"], "huge/scan.nii"),
    ("nifti-tiny-pixel", [*INSPECT, "data.nifti_images={bad}/tiny/*.nii"], "pixel size"),
    (
        "nifti-sidecar-frame",
        [*INSPECT, "data.nifti_images={bad}/frames/*.nii.gz", "--set", "data.frame=ED"],
        "frames/scan.json",
    ),
    (
        "nifti-label-codes",
        [
            *INSPECT,
            "data.nifti_images={bad}/codes/*_img.nii",
            "--set",
            "data.nifti_labels={bad}/codes/*_lab.nii",
        ],
        "data.label_map='{{200: C, 500: C}}'",
    ),
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


def _patched(path: Path, source: bytes, edits: list[tuple[str, int, tuple]]) -> None:
    """Write ``source`` (an uncompressed NIfTI) to ``path`` with header bytes replaced."""
    raw = bytearray(source)
    for fmt, offset, values in edits:
        struct.pack_into(fmt, raw, offset, *values)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(raw))


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    """Broken NIfTI files a new data set may bring, one folder each (header offsets of the
    NIfTI-1 standard: dim at 40, pixdim at 76, qform/sform codes at 252/254, srow at 280)."""
    root = tmp_path_factory.mktemp("bad")
    image = np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)
    nib.save(nib.Nifti1Image(image, np.diag([1.5, 1.5, 8.0, 1.0])), str(root / "ok.nii"))
    ok = (root / "ok.nii").read_bytes()
    sform = [("<h", 252, (0,)), ("<h", 254, (1,))]
    _patched(root / "dim0" / "scan.nii", ok, [("<h", 40, (-5,))])
    _patched(root / "zero" / "scan.nii", ok, [*sform, ("<12f", 280, (0.0,) * 12)])
    _patched(root / "nan" / "scan.nii", ok, [*sform, ("<4f", 280, (np.nan,) * 4)])
    _patched(root / "huge" / "scan.nii", ok, [("<3f", 80, (1e6, 1e6, 8.0))])
    _patched(root / "tiny" / "scan.nii", ok, [("<3f", 80, (1e-6, 1e-6, 8.0))])
    (root / "frames").mkdir()
    movie = np.stack([image, image], axis=-1)
    nib.save(
        nib.Nifti1Image(movie, np.diag([1.5, 1.5, 8.0, 1.0])), str(root / "frames" / "scan.nii.gz")
    )
    (root / "frames" / "scan.json").write_text('{"ED": 9, "ES": 1}')
    (root / "codes").mkdir()
    label = np.zeros((16, 16, 3), np.int16)
    label[4:8, 4:8], label[8:12, 8:12] = 200, 500
    nib.save(nib.Nifti1Image(image, np.eye(4)), str(root / "codes" / "p0_img.nii"))
    nib.save(nib.Nifti1Image(label, np.eye(4)), str(root / "codes" / "p0_lab.nii"))
    return root


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
    """Size and time of every file of a run, but its lock (which every writer takes)."""
    return {
        p: (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file() and p.name != LOCK_NAME
    }


@pytest.mark.parametrize(("args", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gets_one_clear_message(finished, bad, byo, tmp_path, monkeypatch, args, needle):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "a_file").write_text("not a folder")
    values = {
        "run": str(finished),
        "tmp": str(tmp_path),
        "file": str(tmp_path / "a_file"),
        "bad": str(bad),
        "byo": str(byo),
    }
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
    assert len(CASES) >= 90 and len({c[0] for c in CASES}) == len(CASES)


# -- reliability: symlinks and data leaks, one writer per run, plugins ------------------
# (id, arguments as above, text the message must hold, setup(tmp_path, finished run) that
# prepares the hostile input and returns what to undo afterwards, or None)


def _nifti_set(tmp: Path, twin: str) -> None:
    """Three tiny NIfTI cases in ``tmp/set``, p0 again as p3 (a ``copy`` or a ``hard link``),
    and a recorded ``tmp/r/splits.json`` that trains on p0 and tests on p3."""
    from tests.datasets.test_inspection import _write_set

    (tmp / "set").mkdir()
    _write_set(tmp / "set", swapped=False)
    for kind in ("img", "lab"):
        first, again = tmp / "set" / f"p0_{kind}.nii.gz", tmp / "set" / f"p3_{kind}.nii.gz"
        (shutil.copyfile if twin == "copy" else os.link)(first, again)
    splits = {
        "seed": 0,
        "pools": {"train": ["p0", "p1"], "val": ["p2"], "test": ["p3"]},
        "folds": [{"fold": 0, "train": ["p0", "p1"], "val": ["p2"]}],
    }
    (tmp / "r").mkdir()
    (tmp / "r" / "splits.json").write_text(json.dumps(splits))


def _loops(tmp: Path) -> None:
    (tmp / "loop").mkdir()
    (tmp / "loop" / "self").symlink_to(".")
    (tmp / "loop" / "back").symlink_to("..")


def _leaky_splits(tmp: Path) -> None:
    ids = [f"phantom{i:03d}" for i in range(20)]
    splits = {
        "seed": 0,
        "pools": {"train": ids[:12], "val": ids[12:16], "test": [ids[0], *ids[16:]]},
        "folds": [{"fold": 0, "train": ids[:4], "val": ids[12:13]}],
    }
    (tmp / "r").mkdir()
    (tmp / "r" / "splits.json").write_text(json.dumps(splits))


def _holder(run_dir: Path):
    """Another process writing into ``run_dir`` (holding its lock) until undone."""
    code = (
        "import time\nfrom oodcalib.run_lock import run_lock\n"
        f"with run_lock({str(run_dir)!r}, command='oodcalib run --preset smoke'):\n"
        "    print('locked', flush=True)\n    time.sleep(120)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env)
    assert process.stdout is not None and process.stdout.readline().strip() == b"locked"

    def undo():
        process.kill()
        process.wait()

    return undo


def _lock_link(tmp: Path) -> None:
    """A lock file that is a link to a file that must not be written."""
    (tmp / "r").mkdir()
    (tmp / "precious.txt").write_text("precious")
    (tmp / "r" / LOCK_NAME).symlink_to(tmp / "precious.txt")


def _plugin(source: str):
    def write(tmp: Path, run: Path) -> None:
        (tmp / "p.py").write_text(textwrap.dedent(source))

    return write


NIFTI = ["--data", "nifti", "--out", "{tmp}/r", "--set", "data.orientation=stored"]
SET_GLOBS = [
    "--set",
    "data.nifti_images={tmp}/set/*_img.nii.gz",
    "--set",
    "data.nifti_labels={tmp}/set/*_lab.nii.gz",
]
TWIN = "twin=source=phantom; phantom_cases=20"
REPLACE_TS = """
    from oodcalib.baselines import CALIBRATORS, Uncalibrated
    CALIBRATORS["ts"] = Uncalibrated
"""
HOLD = lambda tmp, run: _holder(run)  # noqa: E731
RELIABILITY_CASES = [
    (
        "glob-only-symlink-loops",
        ["run", *SMOKE, *NIFTI, "--set", "data.nifti_images={tmp}/loop/**/*.nii.gz"],
        "no file matches",
        lambda tmp, run: _loops(tmp),
    ),
    (
        "splits-part-a-copied-scan",
        ["run", *SMOKE, *NIFTI, *SET_GLOBS],
        "data leak in {tmp}/r/splits.json: patient 'p0' ('p0' = 'p3': the same scan) is in "
        "the train pool, the test pool and fold 0 train",
        lambda tmp, run: _nifti_set(tmp, "copy"),
    ),
    (
        "splits-part-a-hard-linked-scan",
        ["run", *SMOKE, *NIFTI, *SET_GLOBS],
        "patient 'p0' ('p0' = 'p3': the same scan)",
        lambda tmp, run: _nifti_set(tmp, "hard link"),
    ),
    (
        "splits-patient-in-train-and-test",
        ["run", *SMOKE, "--out", "{tmp}/r"],
        "data leak in {tmp}/r/splits.json: patient 'phantom000' is in the train pool, the "
        "test pool and fold 0 train",
        lambda tmp, run: _leaky_splits(tmp),
    ),
    (
        "domain-holds-training-scans",
        ["run", *SMOKE, "--out", "{tmp}/r", "--domain", TWIN],
        "data leak: test domain 'twin' holds",
        None,
    ),
    (
        "evaluate-domain-holds-training-scans",
        ["evaluate", "{run}", "--domain", TWIN],
        "the same scan as source case",
        None,
    ),
    ("locked-run", ["run", *SMOKE, "--out", "{run}"], "in use by PID", HOLD),
    (
        "locked-evaluate",
        ["evaluate", "{run}", "--domain", "x=source=phantom"],
        "{run}/.oodcalib.lock: the run directory is in use by PID",
        HOLD,
    ),
    ("locked-ablate", ["ablate", "{run}", "--num-aug", "1"], "in use by PID", HOLD),
    ("locked-rescore", ["rescore", "{run}"], "in use by PID", HOLD),
    ("locked-figures", ["figures", "{run}", "--summary"], "in use by PID", HOLD),
    ("locked-leaderboard", ["leaderboard", "{run}"], "in use by PID", HOLD),
    (
        "lock-file-is-a-folder",
        ["run", *SMOKE, "--out", "{tmp}/r"],
        "{tmp}/r/.oodcalib.lock: cannot create the run directory's lock",
        lambda tmp, run: (tmp / "r" / LOCK_NAME).mkdir(parents=True),
    ),
    (
        "lock-file-is-a-symlink",
        ["run", *SMOKE, "--out", "{tmp}/r"],
        "{tmp}/r/.oodcalib.lock: the lock file is a symlink; remove it",
        lambda tmp, run: _lock_link(tmp),
    ),
    (
        "out-is-a-symlink-loop",
        ["run", *SMOKE, "--out", "{tmp}/loop"],
        "{tmp}/loop: the run directory is a symlink to nothing",
        lambda tmp, run: (tmp / "loop").symlink_to(tmp / "loop"),
    ),
    (
        "out-is-a-dangling-symlink",
        ["run", *SMOKE, "--out", "{tmp}/gone"],
        "{tmp}/gone: the run directory is a symlink to nothing",
        lambda tmp, run: (tmp / "gone").symlink_to(tmp / "nowhere" / "run"),
    ),
    ("evaluate-run-is-a-file", ["evaluate", "{file}", "--domain", "x=source=phantom"], "{file}"),
    ("rescore-run-is-a-file", ["rescore", "{file}"], "{file}", None),
    ("ablate-run-is-a-file", ["ablate", "{file}", "--num-aug", "1"], "{file}", None),
    (
        "plugin-replaces-a-method",
        ["run", *SMOKE, "--plugin", "{tmp}/p.py"],
        "{tmp}/p.py: plugin replaces the registered method 'ts' (CALIBRATORS); a plugin may do "
        'so only if it declares OVERRIDE = {{"CALIBRATORS": ["ts"]}}',
        _plugin(REPLACE_TS),
    ),
    (
        "plugin-removes-a-method",
        ["run", *SMOKE, "--plugin", "{tmp}/p.py"],
        "plugin removes the registered method 'ts'",
        _plugin("from oodcalib.baselines import CALIBRATORS\ndel CALIBRATORS['ts']\n"),
    ),
    (
        "plugin-replaces-a-loss",
        ["run", *SMOKE, "--plugin", "{tmp}/p.py"],
        "plugin replaces the registered loss 'ce' (LOSSES)",
        _plugin(
            "from oodcalib.segmentation.losses import register_loss\n"
            "register_loss('ce')(lambda: None)\n"
        ),
    ),
    (
        "plugin-replaces-a-source",
        ["list", "--plugin", "{tmp}/p.py"],
        "plugin replaces the registered data source 'phantom' (SOURCES)",
        _plugin("from oodcalib.datasets import SOURCES\nSOURCES['phantom'] = SOURCES['acdc']\n"),
    ),
    (
        "plugin-override-not-a-dict",
        ["run", *SMOKE, "--plugin", "{tmp}/p.py"],
        "OVERRIDE must map registry names to lists of names",
        _plugin(REPLACE_TS + "    OVERRIDE = ['ts']\n"),
    ),
    (
        "plugin-override-unknown-registry",
        ["list", "--plugin", "{tmp}/p.py"],
        "OVERRIDE names unknown registry methods",
        _plugin(REPLACE_TS + "    OVERRIDE = {'methods': ['ts']}\n"),
    ),
    (
        "plugin-calls-sys-exit",
        ["run", *SMOKE, "--plugin", "{tmp}/p.py"],
        "{tmp}/p.py: plugin called sys.exit(3) while being imported",
        _plugin("import sys\nsys.exit(3)\n"),
    ),
    (
        "plugin-raises-on-import",
        ["list", "--plugin", "{tmp}/p.py"],
        "{tmp}/p.py: plugin failed to import (KeyError: 'nope')",
        _plugin("from oodcalib.baselines import CALIBRATORS\nCALIBRATORS['nope']\n"),
    ),
]
RELIABILITY_CASES = [(*c, None) if len(c) == 3 else c for c in RELIABILITY_CASES]


@pytest.mark.parametrize(
    ("args", "needle", "setup"),
    [c[1:] for c in RELIABILITY_CASES],
    ids=[c[0] for c in RELIABILITY_CASES],
)
def test_hostile_reliability_input_gets_one_clear_message(
    finished, bad, byo, tmp_path, monkeypatch, args, needle, setup
):
    undo = setup(tmp_path, finished) if setup else None
    try:
        test_bad_input_gets_one_clear_message(
            finished, bad, byo, tmp_path, monkeypatch, args, needle
        )
    finally:
        if undo:
            undo()


def test_the_reliability_catalogue_is_large_enough():
    ids = [c[0] for c in RELIABILITY_CASES]
    assert len(ids) >= 20 and len(set(ids)) == len(ids) and not set(ids) & {c[0] for c in CASES}
