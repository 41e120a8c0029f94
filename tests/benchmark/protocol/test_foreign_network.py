"""A network oodcalib did not train, in the built-in one's place: the same numbers.

Equivalence: the built-in smoke U-Nets, exported to TorchScript (``oodcalib export``) and
run back as ``--model torchscript:`` on the run's splits, give a byte-identical
``results.csv`` (every method, repeat, domain and metric), leaderboard and extra domain
(``evaluate --domain``). Their saved probabilities, run as ``predictions:`` in nnU-Net's
and in the NIfTI-per-class layout, give the softmax calibrators' numbers (UC, TS, IR) to
float32 rounding: ``log p = z - logsumexp(z)`` shifts every pixel's logits by one constant,
which leaves the softmax, hence UC, TS's fit and IR's input, unchanged, but the two paths
round differently in float32.
"""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from oodcalib.baselines import softmax
from oodcalib.benchmark.protocol.evaluation import evaluate_run
from oodcalib.benchmark.protocol.foreign_network import configure_networks
from oodcalib.benchmark.protocol.runner import run_benchmark
from oodcalib.cli import app
from oodcalib.config import build_config
from oodcalib.datasets import load_phantom
from oodcalib.datasets.preprocessing import prepare_case
from tests.benchmark.protocol.test_domains import _spec
from tests.segmentation.networks.nnunet_files import write_nnunet

runner = CliRunner()
#: Every method, one fold (the nets are per fold), one repeat, one scan per test domain
SMOKE = [
    "data.n_folds=1",
    "data.max_test_cases=1",
    "data.lge_phantom_cases=1",
    "eval.repeats=1",
    "eval.corruptions=motion",
]
KEY = ["method", "fold", "repeat", "domain", "case", "metric"]


@pytest.fixture(scope="module")
def built_in(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("built_in")
    run_benchmark(build_config("smoke", SMOKE), run_dir)
    return run_dir


@pytest.fixture(scope="module")
def torchscript_run(built_in, tmp_path_factory):
    nets = tmp_path_factory.mktemp("nets")
    exported = runner.invoke(app, ["export", str(built_in), "--out", str(nets)])
    assert exported.exit_code == 0, exported.output
    threads = json.loads((built_in / "config.json").read_text())["train"]["num_threads"]
    # the printed command reproduces the run: its seed and its thread count
    assert "--seed 0" in exported.output and threads
    assert f"--set train.num_threads={threads}" in exported.output
    run_dir = tmp_path_factory.mktemp("torchscript")
    args = [
        "run",
        "--preset",
        "smoke",
        "--out",
        str(run_dir),
        "--model",
        f"torchscript:{nets}/fold0.pt",
    ]
    options = [a for setting in SMOKE[1:] for a in ("--set", setting)]  # n_folds: one --model
    result = runner.invoke(app, [*args, *options, "--calibration", str(nets / "splits.json")])
    assert result.exit_code == 0, result.output
    return run_dir, nets, result.output


def test_torchscript_export_gives_byte_identical_results(built_in, torchscript_run):
    run_dir, nets, _ = torchscript_run
    assert (run_dir / "results.csv").read_bytes() == (built_in / "results.csv").read_bytes()
    for method in ("uc", "alea", "proposed"):  # the bins of the dataset-level metrics
        bins = f"fold0/per_case/{method}_r0.bins.csv.gz"
        assert pd.read_csv(run_dir / bins).equals(pd.read_csv(built_in / bins))
    recorded = json.loads((run_dir / "config.json").read_text())
    assert recorded["model"]["networks"] == [f"torchscript:{nets}/fold0.pt"]
    assert recorded["data"]["calibration"] == str(nets / "splits.json")
    assert not (run_dir / "fold0" / "checkpoint.pt").exists()  # nothing was trained


def test_evaluate_domain_on_a_torchscript_run_equals_the_built_in(
    built_in, torchscript_run, tmp_path
):
    domain = {"vendor": _spec(tmp_path)}
    theirs = evaluate_run(torchscript_run[0], domain)
    ours = evaluate_run(built_in, domain)
    pick = [f[f.domain == "vendor"].sort_values(KEY).reset_index(drop=True) for f in (ours, theirs)]
    assert len(pick[0]) and pick[0].equals(pick[1])


def _nifti_set(root, count=9):
    """Phantom scans saved on the network grid (64 px of 1.5 mm), so preparing is a no-op."""
    for case in load_phantom(count, seed=5, size=64):
        case = prepare_case(case, 64, 1.5)
        affine = np.diag([1.5, 1.5, 8.0, 1.0])
        nib.save(
            nib.Nifti1Image(case.image.transpose(1, 2, 0), affine),
            root / f"{case.case_id}_img.nii.gz",
        )
        nib.save(
            nib.Nifti1Image(case.label.transpose(1, 2, 0).astype(np.int16), affine),
            root / f"{case.case_id}_lab.nii.gz",
        )
    return [
        f"data.nifti_images={root}/*_img.nii.gz",
        f"data.nifti_labels={root}/*_lab.nii.gz",
        "data.orientation=stored",
        "data.n_folds=1",
        "data.train_per_fold=4",
        "data.val_per_fold=1",
        "eval.cross_sequence=false",
        "eval.corruptions=motion",
        "eval.repeats=1",
    ]


def _save_probabilities(run_dir, maps):
    """Each scan's softmax as the built-in net left it: nnU-Net files, or NIfTI per class."""
    affine = np.diag([1.5, 1.5, 8.0, 1.0])
    for path in (run_dir / "fold0" / "logits").rglob("*.npy"):
        domain = "calibration" if path.parent.name == "val" else path.parent.name
        folder = maps / domain
        folder.mkdir(parents=True, exist_ok=True)
        probs = np.moveaxis(softmax(np.load(path).astype(np.float32)), 1, 0)  # (C, Z, H, W)
        stored = probs.transpose(0, 2, 3, 1)  # NIfTI (H, W, Z)
        if domain == "calibration":  # nnU-Net's layout, in float32 to compare to float rounding
            write_nnunet(folder / path.stem, stored, affine, dtype=np.float32)
        else:
            for k, p in enumerate(stored):
                nib.save(nib.Nifti1Image(p, affine), folder / f"{path.stem}_class{k}.nii.gz")


def test_predictions_give_the_softmax_calibrators_numbers(tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    settings = _nifti_set(scans)
    built_in = tmp_path / "built_in"
    methods = "eval.methods=uc,ts,lts,ir,platt"
    ours = run_benchmark(build_config("smoke", ["data.source=nifti", *settings, methods]), built_in)
    maps = tmp_path / "maps"
    _save_probabilities(built_in, maps)
    config = build_config("smoke", ["data.source=nifti", *settings])  # every method
    notes = configure_networks(config, [f"predictions:{maps}"], str(built_in / "splits.json"))
    assert len(notes) == 3 and "alea, proposed" in notes[0] and "motion" in notes[1]
    assert "lts trains on the stored calibration logits" in notes[2]
    theirs = run_benchmark(config, tmp_path / "predictions")
    assert set(theirs.method) == {"uc", "ts", "lts", "ir", "platt"}
    assert set(theirs.domain) == {"clean"}
    merged = ours.merge(theirs, on=["loss", *KEY], suffixes=("", "_p"))
    assert len(merged) == len(theirs)
    same = merged[merged.method.isin(["uc", "ts", "ir"])]
    close = np.isclose(same.value, same.value_p, rtol=1e-4, atol=1e-5, equal_nan=True)
    assert close.all(), same[~close].head()
