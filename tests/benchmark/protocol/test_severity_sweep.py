"""Severity sweeps reuse a run's nets and fits; level ``eval.severity`` is the run's own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from oodcalib.benchmark.protocol.runner import run_benchmark
from oodcalib.benchmark.protocol.severity_sweep import run_severity_sweep
from oodcalib.benchmark.reporting.severity_curves import severity_points, write_severity_outputs
from oodcalib.cli import app
from oodcalib.config import build_config
from oodcalib.errors import OodcalibError

KEY = ["method", "fold", "repeat", "domain", "case", "metric"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("sweep")
    config = build_config(
        "smoke",
        [
            "data.n_folds=1",
            "eval.methods=uc,ts",
            "eval.repeats=2",
            "data.max_test_cases=2",
            "eval.corruptions=motion,spike",
            "eval.cross_sequence=false",
        ],
    )
    return config, run_dir, run_benchmark(config, run_dir)


def _values(frame):
    return frame.sort_values(KEY)["value"].to_numpy()


def test_the_runs_level_and_clean_rows_are_the_runs_own(run):
    config, run_dir, results = run
    fold = run_dir / "fold0"
    stamps = {
        p: p.stat().st_mtime_ns for p in [fold / "checkpoint.pt", *fold.glob("calibrators/*.pt")]
    }
    sweep = run_severity_sweep(run_dir, [1, 3])
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # nothing retrained or refit
    assert set(sweep["setting"]) == {"0", "1", "3"}
    own = results[results.domain.isin(["motion", "spike"])]
    np.testing.assert_array_equal(
        _values(sweep[sweep.setting == "3"].drop(columns="setting")), _values(own)
    )
    np.testing.assert_array_equal(
        _values(sweep[sweep.setting == "0"]), _values(results[results.domain == "clean"])
    )
    mild = sweep[(sweep.setting == "1") & (sweep.metric == "ece")]
    assert not np.allclose(_values(mild), _values(own[own.metric == "ece"]))
    # deterministic TS: repeat 1 is repeat 0's copy
    ts = sweep[(sweep.method == "ts") & (sweep.setting == "1")]
    np.testing.assert_array_equal(
        _values(ts[ts.repeat == 0].assign(repeat=1)), _values(ts[ts.repeat == 1])
    )


def test_a_later_sweep_scores_only_the_levels_it_lacks(run):
    _, run_dir, _ = run
    first = run_severity_sweep(run_dir, [1])
    path = run_dir / "ablation" / "severity" / "per_case" / "fold0" / "uc_r0.csv"
    before = pd.read_csv(path, dtype={"setting": str})
    again = run_severity_sweep(run_dir, [1, 2])
    after = pd.read_csv(path, dtype={"setting": str})
    assert set(after["setting"]) == set(before["setting"]) | {"2"}
    pd.testing.assert_frame_equal(after.head(len(before)), before)
    assert set(again["setting"]) == {"0", "1", "2"}
    np.testing.assert_array_equal(_values(first), _values(again[again.setting != "2"]))


@pytest.mark.parametrize(
    ("levels", "methods", "needle"),
    [
        ([6], None, "severity must be one of 1, 2, 3, 4, 5"),
        ([], None, "at least one level"),
        ([1], ["lts"], "lts not in the run"),
    ],
)
def test_bad_sweeps_are_refused(run, levels, methods, needle):
    with pytest.raises(OodcalibError, match=needle):
        run_severity_sweep(run[1], levels, methods)


def test_points_match_a_hand_computation():
    rows = pd.DataFrame(
        {
            "method": "uc",
            "fold": 0,
            "repeat": 0,
            "metric": "ece",
            "case": ["a", "b", "a", "b", "a", "b"],
            "domain": ["clean", "clean", "motion", "motion", "spike", "spike"],
            "setting": ["0", "0", "1", "1", "1", "1"],
            "value": [0.1, 0.3, 0.2, 0.4, 0.6, 0.8],
        }
    )
    points = severity_points(rows, ["ece"]).set_index(["domain", "level"])
    assert points.loc[("motion", 0.0), "mean"] == pytest.approx(0.2)  # clean is level 0
    assert points.loc[("artifact avg", 1.0), "mean"] == pytest.approx(0.5)
    half = 1.96 * np.std([0.4, 0.6], ddof=1) / np.sqrt(2)  # units a: 0.4, b: 0.6
    assert points.loc[("artifact avg", 1.0), "ci"] == pytest.approx(half)


def test_cli_writes_the_curves_and_the_table(run):
    _, run_dir, _ = run
    result = CliRunner().invoke(
        app, ["ablate", str(run_dir), "--severity", "1", "2", "--methods", "uc"]
    )
    assert result.exit_code == 0, result.output
    out = run_dir / "ablation" / "severity"
    assert (out / "severity.png").stat().st_size > 20_000
    table = (out / "table.md").read_text()
    assert "| UC | 0 |" in table and "| UC | 2 |" in table and "TS" not in table
    bad = CliRunner().invoke(app, ["ablate", str(run_dir), "--severity", "7"])
    assert bad.exit_code == 2 and "severity must be one of" in bad.output


def test_outputs_from_results(run, tmp_path):
    sweep = run_severity_sweep(run[1], [1])
    paths = write_severity_outputs(sweep, tmp_path, {"uc": "UC", "ts": "TS"})
    assert [p.name for p in paths] == ["table.csv", "table.md", "severity.png"]
    table = pd.read_csv(paths[0])
    assert {"motion", "spike", "artifact avg", "level", "method", "metric"} <= set(table.columns)
