"""Scale-out: (loss, fold) cells sent to a dask cluster give the results of the serial run."""

import json
from pathlib import Path

import pytest
import torch
from joblib import parallel_config

from oodcalib.benchmark.protocol.runner import run_benchmark
from oodcalib.config import build_config

distributed = pytest.importorskip("dask.distributed")

KEY = ["loss", "method", "fold", "repeat", "domain", "case", "metric"]


@pytest.fixture
def restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_serial_jobs_and_dask_give_byte_identical_results(tmp_path, restore_threads, monkeypatch):
    """The run fixes its torch thread count (config.json) and every job uses it, so the
    execution mode does not change a bit of ``results.csv``; run directories are relative
    (the default), as users give them."""
    monkeypatch.chdir(tmp_path)
    overrides = [
        "data.n_folds=1",
        "eval.methods=uc,ts,alea",
        "eval.repeats=1",
        "data.max_test_cases=2",
        "train.losses=ce,nacl",
    ]
    run_benchmark(build_config("smoke", overrides), Path("serial"))
    jobs = build_config("smoke", overrides)
    jobs.n_jobs = 2
    run_benchmark(jobs, Path("jobs"))
    config = build_config("smoke", overrides)
    config.backend, config.n_jobs = "dask", 2
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
        parallel_config(backend="dask"),
    ):
        run_benchmark(config, Path("dask"))
        workers = client.run(lambda: 1)
    assert len(workers) == 2
    serial = (tmp_path / "serial" / "results.csv").read_bytes()
    assert len(serial) > 1000
    assert (tmp_path / "jobs" / "results.csv").read_bytes() == serial
    assert (tmp_path / "dask" / "results.csv").read_bytes() == serial
    threads = json.loads((tmp_path / "serial" / "config.json").read_text())["train"]
    assert threads["num_threads"] == torch.get_num_threads() >= 1
    cells = sorted(
        p.relative_to(tmp_path / "dask").as_posix()
        for p in (tmp_path / "dask").glob("losses/*/fold*")
    )
    assert cells == ["losses/ce/fold0", "losses/nacl/fold0"]
