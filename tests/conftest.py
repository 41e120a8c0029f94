"""Shared fixtures: the real data directory, skipped when absent except in CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):
    # parallel workers (pyproject's ``-n auto``) share the cores: one torch thread each,
    # inherited by the subprocesses they start (dask workers, CLI runs)
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("OODCALIB_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ``../shared/data``; skips when absent, fails when absent in CI."""
    if not (SHARED_DATA / "ACDC").is_dir() or not (SHARED_DATA / "MSCMR_LGE").is_dir():
        message = f"real data not found at {SHARED_DATA}"
        if _in_ci():
            pytest.fail(message + " (CI=true: real-data tests must run)")
        pytest.skip(message)
    return SHARED_DATA
