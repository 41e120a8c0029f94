"""Scale-out: (loss, fold) cells sent to a dask cluster give the results of the serial run."""

import numpy as np
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


def test_dask_local_cluster_equals_the_serial_run(tmp_path, restore_threads):
    """One torch thread on both sides: float sums then add up in the same order."""
    overrides = ["data.n_folds=1", "eval.methods=uc,ts,alea", "eval.repeats=1",
                 "data.max_test_cases=2", "train.num_threads=1", "train.losses=ce,nacl"]
    serial = run_benchmark(build_config("smoke", overrides), tmp_path / "serial")
    config = build_config("smoke", overrides)
    config.backend, config.n_jobs = "dask", 2
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client, parallel_config(backend="dask"):
        distributed_run = run_benchmark(config, tmp_path / "dask")
        workers = client.run(lambda: 1)
    assert len(workers) == 2
    a, b = (frame.sort_values(KEY).reset_index(drop=True) for frame in (serial, distributed_run))
    assert len(a) == len(b) > 0
    assert a[KEY].equals(b[KEY])
    np.testing.assert_allclose(a["value"], b["value"], rtol=1e-6, atol=1e-9)
    cells = sorted(p.relative_to(tmp_path / "dask").as_posix()
                   for p in (tmp_path / "dask").glob("losses/*/fold*"))
    assert cells == ["losses/ce/fold0", "losses/nacl/fold0"]
