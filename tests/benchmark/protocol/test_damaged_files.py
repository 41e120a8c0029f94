"""Damaged files: a truncated cache is recomputed, a truncated record refused by its path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from oodcalib.benchmark.protocol.runner import run_benchmark
from oodcalib.config import build_config
from oodcalib.errors import DataError
from tests.benchmark.protocol.test_resume import SETTINGS


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("original") / "run"
    run_benchmark(build_config("smoke", SETTINGS), run_dir)
    return run_dir


@pytest.fixture
def finished(original, tmp_path):
    """A copy of one finished run, to damage."""
    run_dir = shutil.copytree(original, tmp_path / "run")
    config = build_config("smoke", SETTINGS)
    return config, run_dir, (run_dir / "results.csv").read_bytes(), None


@pytest.mark.parametrize(
    "pattern",
    [
        "corrupted/motion-*/*.npz",
        "fold0/logits/clean/*.npy",
        "fold0/passes/clean/*/n2.npz",
        "fold0/checkpoint.pt",
        "fold0/calibrators/ts_r0.pt",
        "prepared.joblib",
    ],
)
def test_a_truncated_cache_is_recomputed(finished, pattern):
    config, run_dir, before, _ = finished
    path = sorted(run_dir.glob(pattern))[0]
    _truncate(path)
    for per_case in (run_dir / "fold0" / "per_case").glob("*.csv"):
        per_case.unlink()  # so that the cache is read again
    if "corrupted" in pattern:
        (run_dir / "prepared.joblib").unlink()  # which holds the corrupted scans
    with pytest.warns(UserWarning, match="damaged"):
        run_benchmark(config, run_dir)
    assert (run_dir / "results.csv").read_bytes() == before


def test_a_truncated_per_case_file_is_recomputed_on_resume(finished):
    config, run_dir, before, _ = finished
    _truncate(run_dir / "fold0" / "per_case" / "uc_r0.csv")
    with pytest.warns(UserWarning, match="per-case results"):
        run_benchmark(config, run_dir)
    assert (run_dir / "results.csv").read_bytes() == before


@pytest.mark.parametrize("name", ["splits.json", "config.json"])
def test_a_damaged_record_is_refused_with_its_path(finished, name):
    config, run_dir, _, _ = finished
    _truncate(run_dir / name)
    with pytest.raises(DataError, match=name):
        run_benchmark(config, run_dir)


def test_a_damaged_config_is_refused_before_the_thread_count_is_read(finished):
    """With the default ``train.num_threads=0`` the count is looked up in config.json."""
    _, run_dir, _, _ = finished
    _truncate(run_dir / "config.json")
    config = build_config("smoke", [s for s in SETTINGS if "num_threads" not in s])
    with pytest.raises(DataError, match="config.json"):
        run_benchmark(config, run_dir)
