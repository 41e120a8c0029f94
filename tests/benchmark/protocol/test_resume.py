"""Interrupted runs: killed at any point, then resumed, a run's records are byte-identical to
an uninterrupted run's.

The suite's test kills a chain of sessions, each at a named point of the protocol (in
training, after the logits, inside the augmented passes, after each calibrator's fit and
before it is saved, between a per-case file's bins and its results, in the reporting):
every session is a forked process that ends with ``os._exit`` (no ``finally``, no flush:
a kill) at its point, and the next one resumes where it stopped. The last one finishes
the run, whose CSV, Markdown and JSON records must equal, byte for byte, those of an
uninterrupted run.

The thorough version kills real ``oodcalib run`` processes with SIGKILL, one point per
run (slow: ``pytest -m slow -n 0 tests/benchmark/protocol/test_resume.py``).
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

#: The exit code of a session killed at its point (that of SIGKILL).
KILLED = 128 + signal.SIGKILL
SETTINGS = [
    "data.n_folds=1",
    "eval.methods=uc,alea,ts,lts,proposed,ir,platt",
    "eval.repeats=1",
    "data.max_test_cases=1",
    "eval.corruptions=motion",
    "train.num_threads=1",
]
FOLD = "oodcalib.benchmark.protocol.fold"
TRAINING = "oodcalib.segmentation.training"
PASSES = "oodcalib.benchmark.protocol.pass_cache:atomic_write"
#: The chain: (what is interrupted, ``module:attribute`` of the function, its n-th call in
#: the session, "before" or "after" it). Each session resumes the previous one's work.
CHAIN = [
    ("training, a best net saved, its log row not", f"{TRAINING}:_atomic_save", 1, "after"),
    ("training, a log row written, the state not", f"{TRAINING}:_append_log", 1, "after"),
    ("training, a state saved mid-way", f"{TRAINING}:_atomic_save", 2, "after"),
    ("training resumed, a later log row written", f"{TRAINING}:_append_log", 1, "after"),
    ("logits, the first scan's written",
     "oodcalib.benchmark.protocol.logit_store:atomic_write", 1, "after"),
    ("UC fitted, not saved", "oodcalib.baselines:Uncalibrated.fit", 1, "after"),
    ("scoring, UC's bins written, its results not", f"{FOLD}:write_csv", 1, "after"),
    ("Alea. fitted, not saved", "oodcalib.baselines:Aleatoric.fit", 1, "after"),
    ("passes, between two snapshots of a scan", PASSES, 1, "after"),
    ("passes, at the next scan", PASSES, 2, "after"),
    ("TS fitted, not saved", "oodcalib.baselines:TemperatureScaling.fit", 1, "after"),
    ("LTS fitted, not saved", "oodcalib.baselines:LocalTemperatureScaling.fit", 1, "after"),
    ("Proposed fitted, not saved",
     "oodcalib.baselines:SusceptibilityShapePrior.fit", 1, "after"),
    ("IR fitted, not saved",
     "oodcalib.baselines:IsotonicRegressionCalibrator.fit", 1, "after"),
    ("Platt fitted, not saved", "oodcalib.baselines:PlattScaling.fit", 1, "after"),
    ("reporting, results.csv written", "oodcalib.benchmark.protocol.runner:write_text", 1,
     "after"),
    ("reporting, summary.csv written", "oodcalib.atomic:write_csv", 1, "after"),
]  # fmt: skip
#: Records that differ between sessions by nature (clocks, counts of one session, hosts).
VOLATILE = {"timings.json", "forward_passes.json", "environment.json", "device.json"}


def records(run_dir: Path) -> dict[str, bytes]:
    """Every CSV, Markdown and JSON record of a run, by path (the volatile ones left out)."""
    return {
        p.relative_to(run_dir).as_posix(): p.read_bytes()
        for p in sorted(run_dir.rglob("*"))
        if p.is_file()
        and p.name not in VOLATILE
        and (p.name.endswith((".csv", ".csv.gz", ".md", ".json")))
    }


#: Imported once by the fork server, so that no session spends seconds importing them.
PRELOAD = [
    "tqdm",
    "torch",
    "oodcalib.benchmark.protocol.runner",
    "oodcalib.benchmark.reporting.leaderboard",
    "oodcalib.benchmark.reporting.summary",
    "oodcalib.benchmark.reporting.timings",
    "oodcalib.cli.run_report",
]


def session(run_dir: str, point: tuple | None) -> None:
    """One ``oodcalib run`` (run, then its report), killed at ``point`` if given.

    Runs in a child process; with a point that is never reached it ends normally (the
    test then sees exit code 0 instead of :data:`KILLED`).
    """
    import torch

    from oodcalib.benchmark.protocol.runner import run_benchmark
    from oodcalib.cli.run_report import report
    from oodcalib.config import build_config

    torch.set_num_threads(1)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the report, unread; the process ends
    if point is not None:
        _, target, call, when = point
        module_name, _, path = target.partition(":")
        *owners, name = path.split(".")
        owner = importlib.import_module(module_name)
        for attribute in owners:
            owner = getattr(owner, attribute)
        original, calls = getattr(owner, name), [0]

        def interrupted(*args, **kwargs):
            calls[0] += 1
            if calls[0] == call and when == "before":
                os._exit(KILLED)
            out = original(*args, **kwargs)
            if calls[0] == call:
                os._exit(KILLED)
            return out

        setattr(owner, name, interrupted)
    results = run_benchmark(build_config("smoke", SETTINGS), Path(run_dir))
    report(Path(run_dir), results, 0.0)


def run_session(run_dir: Path, point: tuple | None = None) -> int:
    """:func:`session` in a process forked from a fresh server (no torch threads); its code."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    process = context.Process(target=session, args=(str(run_dir), point))
    process.start()
    process.join(600)
    return process.exitcode


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, bytes]:
    old = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"  # read by tqdm when the fork server imports it
    try:
        run_dir = tmp_path_factory.mktemp("whole") / "run"
        assert run_session(run_dir) == 0
    finally:
        if old is None:
            del os.environ["TQDM_DISABLE"]
        else:
            os.environ["TQDM_DISABLE"] = old
    return records(run_dir)


def test_a_run_killed_at_every_point_resumes_to_the_same_records(reference, tmp_path):
    run_dir = tmp_path / "run"
    for point in CHAIN:
        assert run_session(run_dir, point) == KILLED, f"never reached: {point[0]}"
    assert run_session(run_dir) == 0
    got = records(run_dir)
    assert sorted(got) == sorted(reference)
    differ = [name for name in reference if got[name] != reference[name]]
    assert not differ, f"differ from the uninterrupted run: {differ}"
    assert {"results.csv", "summary.csv", "leaderboard.csv", "fold0/train_log.csv"} <= set(got)


# -- the thorough version: real processes, SIGKILL, one point per run (slow) ------------

KILL_POINTS = [
    "fold0/train_log.csv",
    "fold0/last.pt",
    "fold0/checkpoint.pt",
    "fold0/logits/val",
    "fold0/passes/clean",
    "fold0/calibrators/ts_r0.pt",
    "fold0/calibrators/proposed_r0.pt",
    "fold0/per_case/lts_r0.bins.csv.gz",
    "results.csv",
    "summary.csv",
]


def _command(out: Path) -> list[str]:
    sets = [part for s in SETTINGS for part in ("--set", s)]
    return [sys.executable, "-m", "oodcalib", "run", "--preset", "smoke", "--out", str(out), *sets]


@pytest.fixture(scope="module")
def cli_reference(tmp_path_factory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("whole-cli") / "run"
    subprocess.run(_command(out), check=True, capture_output=True)
    return records(out)


@pytest.mark.slow
@pytest.mark.parametrize("point", KILL_POINTS)
def test_sigkill_then_resume_gives_the_uninterrupted_records(cli_reference, tmp_path, point):
    out = tmp_path / "run"
    process = subprocess.Popen(_command(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (out / point).exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert process.poll() is None, f"the run ended before {point} appeared"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    subprocess.run(_command(out), check=True, capture_output=True)  # the resume
    got = records(out)
    assert sorted(got) == sorted(cli_reference)
    assert [n for n in cli_reference if got[n] != cli_reference[n]] == []
