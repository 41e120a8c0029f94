"""Interrupted runs: a SIGKILL at any point, then a resume, gives the results and the
leaderboard of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oodcalib.benchmark.reporting.leaderboard import write_leaderboard

SETTINGS = [
    "data.n_folds=1",
    "eval.methods=uc,ts,alea",
    "eval.repeats=1",
    "data.max_test_cases=2",
    "train.iterations=40",
    "train.val_every=10",
    "train.num_threads=1",
]


def _command(out: Path) -> list[str]:
    sets = [part for s in SETTINGS for part in ("--set", s)]
    return [sys.executable, "-m", "oodcalib", "run", "--preset", "smoke", "--out", str(out), *sets]


def _leaderboard(out: Path) -> bytes:
    csv_path, _ = write_leaderboard(out, "uc")
    return csv_path.read_bytes()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole") / "run"
    subprocess.run(_command(out), check=True, capture_output=True)
    return (out / "results.csv").read_bytes(), _leaderboard(out)


@pytest.mark.parametrize(
    "point", ["fold0/train_log.csv", "fold0/checkpoint.pt", "fold0/calibrators/ts_r0.pt"]
)
def test_sigkill_then_resume_gives_the_uninterrupted_results(reference, tmp_path, point):
    out = tmp_path / "run"
    process = subprocess.Popen(_command(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (out / point).exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    subprocess.run(_command(out), check=True, capture_output=True)  # the resume
    assert (out / "results.csv").read_bytes() == reference[0]
    assert _leaderboard(out) == reference[1]
