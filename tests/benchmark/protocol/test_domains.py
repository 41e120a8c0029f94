"""Extra test domains: scored with the run, added to a finished run, averaged per kind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from oodcalib.benchmark.names import domain_kinds, domain_names, method_names
from oodcalib.benchmark.protocol.domains import training_patients
from oodcalib.benchmark.protocol.evaluation import evaluate_run
from oodcalib.benchmark.protocol.runner import run_benchmark
from oodcalib.benchmark.reporting.leaderboard import write_leaderboard
from oodcalib.benchmark.reporting.summary import summary_table
from oodcalib.cli import app
from oodcalib.config import Config, build_config
from oodcalib.errors import OodcalibError
from tests.datasets.test_inspection import _write_set

SETTINGS = [
    "data.n_folds=1",
    "eval.methods=uc,ts",
    "eval.repeats=2",
    "data.max_test_cases=2",
    "eval.corruptions=motion,spike",
]
KEY = ["method", "fold", "repeat", "domain", "case", "metric"]


def _spec(folder, kind="vendor", **extra):
    images, labels = (s.split("=", 1)[1] for s in _write_set(folder, swapped=False))
    return {
        "source": "nifti",
        "images": images,
        "labels": labels,
        "orientation": "stored",
        "kind": kind,
        **extra,
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("domains")
    sets = [tmp_path_factory.mktemp(n) for n in ("a", "b", "c")]
    config = build_config("smoke", SETTINGS)
    config.eval.domains = {"a": _spec(sets[0]), "b": _spec(sets[1], exclude_patients=["p1"])}
    results = run_benchmark(config, run_dir)
    return config, run_dir, results, sets


def test_extra_domains_are_scored_in_files_of_their_own(run):
    config, run_dir, results, _ = run
    assert {"a", "b"} <= set(results["domain"])
    assert (run_dir / "fold0" / "per_case" / "ts_r1@a.csv").exists()
    assert set(results.loc[results.domain == "a", "case"]) == {"p0", "p1"}  # max_test_cases
    assert set(results.loc[results.domain == "b", "case"]) == {"p0", "p2"}  # p1 excluded


def test_averages_are_taken_per_kind(run):
    config, run_dir, results, _ = run
    saved = Config.load(run_dir / "config.json")
    kinds = domain_kinds(saved)
    assert kinds == {
        "motion": "artifact",
        "spike": "artifact",
        "lge": "sequence",
        "a": "vendor",
        "b": "vendor",
    }
    table = summary_table(results, ["ece"], domains=domain_names(saved), kinds=kinds).set_index(
        "method"
    )
    ece = results[results.metric == "ece"]
    for method in ("uc", "ts"):
        rows = ece[ece.method == method].pivot_table(
            index=["fold", "repeat", "case"], columns="domain", values="value"
        )
        artifact = rows[["motion", "spike"]].mean(axis=1).mean()  # hand oracle
        vendor = ece.loc[(ece.method == method) & ece.domain.isin(["a", "b"]), "value"].mean()
        assert table.loc[method, "artifact avg"] == pytest.approx(artifact)
        assert table.loc[method, "vendor avg"] == pytest.approx(vendor)
    write_leaderboard(
        run_dir, "uc", names=method_names(saved), domains=domain_names(saved), kinds=kinds
    )
    md = (run_dir / "leaderboard.md").read_text()
    assert "Artifact avg = per-unit mean over motion, spike" in md
    assert "Vendor avg = over the scans of a, b" in md
    assert (
        "| | Intra | Motion | Spike | Artifact avg | Cross-seq (LGE) | a (vendor) | b (vendor) "
        "| Vendor avg |" in md
    )
    assert list(table.columns)[1:] == [
        "clean",
        "motion",
        "spike",
        "artifact avg",
        "lge",
        "a",
        "b",
        "vendor avg",
    ]


def test_evaluate_adds_a_domain_without_retraining_or_refitting(run):
    config, run_dir, results, sets = run
    fold = run_dir / "fold0"
    stamps = {
        p: p.stat().st_mtime_ns
        for p in [
            fold / "checkpoint.pt",
            *fold.glob("calibrators/*.pt"),
            *fold.glob("per_case/*.csv"),
        ]
    }
    after = evaluate_run(run_dir, {"c": _spec(sets[2], kind="sequence")})
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert "c" in set(after["domain"])
    old = after[after.domain != "c"].sort_values(KEY)["value"].to_numpy()
    np.testing.assert_array_equal(old, results.sort_values(KEY)["value"].to_numpy())
    assert Config.load(run_dir / "config.json").eval.domains["c"]["kind"] == "sequence"
    # a rerun without --domain keeps the added domain and trains nothing
    again = run_benchmark(build_config("smoke", SETTINGS) | _with_domains(config), run_dir)
    assert "c" in set(again["domain"]) and len(again) == len(after)
    assert (fold / "checkpoint.pt").stat().st_mtime_ns == stamps[fold / "checkpoint.pt"]
    with pytest.raises(OodcalibError, match="another spec"):
        evaluate_run(run_dir, {"c": _spec(sets[2], kind="vendor")})


def _with_domains(config):
    class _Merge:  # build_config(...) | config: the same settings with the run's first domains
        def __ror__(self, other):
            other.eval.domains = dict(config.eval.domains)
            return other

    return _Merge()


def test_evaluate_cli_reports_and_bad_specs_exit_2(run, tmp_path):
    _, run_dir, _, sets = run
    runner = CliRunner()
    bad = runner.invoke(app, ["evaluate", str(run_dir), "--domain", "d=source=nifti; colour=1"])
    assert bad.exit_code == 2 and "unknown key(s) colour" in bad.output
    assert "Traceback" not in bad.output
    taken = runner.invoke(app, ["evaluate", str(run_dir), "--domain", "lge=source=nifti"])
    assert taken.exit_code == 2 and "taken by a built-in domain" in taken.output
    images = f"{sets[0]}/*_img.nii.gz"
    good = runner.invoke(
        app,
        [
            "evaluate",
            str(run_dir),
            "--domain",
            f"d=source=nifti; images={images}; labels={sets[0]}/*_lab.nii.gz;"
            " orientation=stored; kind=vendor",
        ],
    )
    assert good.exit_code == 0, good.output
    assert "it includes this evaluate's" in good.output  # its time joined the stage table
    header = next(line for line in good.output.splitlines() if "metric" in line).split()
    assert header[-9:] == ["lge", "a", "b", "c", "sequence", "avg", "d", "vendor", "avg"]


def test_training_patients_come_from_every_fold_by_the_patient_pattern():
    config = build_config("smoke", ["data.patient_pattern=^(p\\d+)"])
    splits = {
        "pools": {"test": ["p9_ED"]},
        "folds": [
            {"fold": 0, "train": ["p1_ED", "p1_ES"], "val": ["p2_ED"]},
            {"fold": 1, "train": ["p3_ES"], "val": ["p2_ED"]},
        ],
    }
    assert training_patients(config, splits) == {"p1", "p2", "p3"}


def test_summary_without_kinds_keeps_the_fixed_rule():
    frame = pd.DataFrame(
        {
            "method": "uc",
            "fold": 0,
            "repeat": 0,
            "case": "a",
            "domain": ["clean", "motion", "lge"],
            "metric": "ece",
            "value": [0.1, 0.2, 0.3],
        }
    )
    table = summary_table(frame, ["ece"])
    assert list(table.columns) == ["metric", "method", "clean", "lge", "motion", "artifact avg"]
    assert table["artifact avg"].item() == pytest.approx(0.2)  # LGE is not an artifact
