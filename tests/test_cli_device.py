"""``--device``, ``--gpus`` and the device record, on a machine without a GPU."""

from __future__ import annotations

import json
import os

import pytest
import torch
from typer.testing import CliRunner

from oodcalib.benchmark.protocol.provenance import write_environment
from oodcalib.cli import app
from oodcalib.config import Config

runner = CliRunner()
needs_no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")


def _one_line_error(result, *parts: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for part in parts:
        assert part in lines[0], result.output


@needs_no_cuda
@pytest.mark.parametrize("device", ["cuda", "cuda:3"])
def test_a_missing_gpu_is_a_one_line_error_before_any_work(tmp_path, device):
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", "--preset", "smoke", "--out", str(out), "--device", device])
    _one_line_error(result, f"--device {device}", "no CUDA GPU")
    assert not (out / "config.json").exists()


@needs_no_cuda
def test_gpus_without_gpus_is_a_one_line_error(tmp_path):
    result = runner.invoke(app, ["run", "--preset", "smoke", "--out", str(tmp_path), "--gpus", "2"])
    _one_line_error(result, "--device cuda", "no CUDA GPU")
    result = runner.invoke(
        app, ["run", "--preset", "smoke", "--out", str(tmp_path), "--gpus", "2", "--jobs", "2"]
    )
    _one_line_error(result, "--gpus 2 chooses the device")


def _recorded_run(tmp_path, **keys) -> str:
    raw = Config().to_dict() | keys
    if "device" not in keys:
        raw.pop("device")  # a run recorded before the key
    (tmp_path / "config.json").write_text(json.dumps(raw))
    return str(tmp_path)


def test_a_run_recorded_without_the_key_ran_on_the_cpu(tmp_path):
    run_dir = _recorded_run(tmp_path)
    assert Config.load(tmp_path / "config.json").device == "cpu"
    result = runner.invoke(app, ["rescore", run_dir, "--device", "mps"])
    _one_line_error(result, "ran its networks on cpu", "--device cpu")


@needs_no_cuda
def test_a_gpu_run_is_not_reused_on_another_device(tmp_path):
    run_dir = _recorded_run(tmp_path, device="cuda")
    for command in (
        ["rescore", run_dir, "--device", "cpu"],
        ["evaluate", run_dir, "--device", "cpu"],
    ):
        _one_line_error(runner.invoke(app, command), "ran its networks on cuda")
    # auto means the recorded kind, which this machine lacks
    _one_line_error(runner.invoke(app, ["rescore", run_dir]), "--device cuda", "no CUDA GPU")


def test_environment_records_the_resolved_device(tmp_path):
    write_environment(tmp_path / "environment.json", torch.device("cpu"))
    recorded = json.loads((tmp_path / "environment.json").read_text())
    assert recorded["device"] == "cpu" and "gpu_name" not in recorded


def test_gpu_cluster_gives_each_worker_its_own_gpu(monkeypatch):
    pytest.importorskip("dask.distributed")
    from oodcalib.cli.options import _close_client, _gpu_client

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5,7")
    with pytest.raises(ValueError, match="--gpus 3: this machine has 2 CUDA GPU"):
        _gpu_client(3)
    client = _gpu_client(2)
    try:
        seen = client.run(lambda: (os.environ["CUDA_VISIBLE_DEVICES"], 1))
        assert sorted(seen.values()) == [("5", 1), ("7", 1)]
        assert sorted(w["nthreads"] for w in client.scheduler_info()["workers"].values()) == [1, 1]
    finally:
        _close_client(client)


@needs_no_cuda
def test_speed_on_a_missing_gpu_is_a_one_line_error():
    result = runner.invoke(app, ["speed", "--preset", "smoke", "--device", "cuda"])
    _one_line_error(result, "--device cuda", "no CUDA GPU")
