"""Tests that need a CUDA GPU: skipped without one. Run them with ``pytest -m gpu -n 0``.

They were written on a machine without a GPU and have not run on one yet.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from oodcalib.cli import app
from oodcalib.segmentation.acceleration import Placement
from oodcalib.segmentation.device import describe_device, resolve_device
from oodcalib.segmentation.unet import UNet
from tests.segmentation.test_device import network_paths

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]
runner = CliRunner()
SMALL = ["--set", "train.iterations=20", "--set", "train.val_every=10"]


def test_auto_is_cuda_and_the_gpu_is_described():
    device = resolve_device("auto")
    assert device.type == "cuda"
    info = describe_device(device)
    assert info["gpu_name"] and info["gpu_memory_gib"] > 0 and info["cuda_version"]


def test_placed_unet_runs_under_autocast_and_returns_float32():
    placement = Placement(torch.device("cuda"))
    net = placement.place(UNet(width=4, depth=3))
    assert next(net.parameters()).is_cuda
    expected = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    assert placement.autocast_dtype == expected
    out = net(torch.rand(2, 1, 16, 16, device="cuda"))
    assert out.dtype == torch.float32 and out.is_cuda


def test_every_network_path_runs_on_the_gpu_and_agrees_with_the_cpu(tmp_path):
    cpu = network_paths(tmp_path / "cpu")
    gpu = network_paths(tmp_path / "gpu", Placement(torch.device("cuda"), amp=False))
    for name, value in cpu.items():
        assert isinstance(gpu[name], np.ndarray), name
        np.testing.assert_allclose(gpu[name], value, atol=2e-2, err_msg=name)


def test_deterministic_training_repeats_bit_for_bit(tmp_path):
    from oodcalib.segmentation.acceleration import configure_backends

    configure_backends(torch.device("cuda"), deterministic=True)
    try:
        first = network_paths(tmp_path / "a", Placement(torch.device("cuda")))
        second = network_paths(tmp_path / "b", Placement(torch.device("cuda")))
    finally:
        torch.use_deterministic_algorithms(False)
        torch.backends.cudnn.deterministic = False
    for name, value in first.items():
        np.testing.assert_array_equal(second[name], value, err_msg=name)


def test_smoke_run_on_cuda_records_the_gpu(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(
        app, ["run", "--preset", "smoke", "--out", str(out), "--device", "cuda", *SMALL]
    )
    assert result.exit_code == 0, result.output
    assert json.loads((out / "config.json").read_text())["device"] == "cuda"
    environment = json.loads((out / "environment.json").read_text())
    assert environment["device"].startswith("cuda") and environment["gpu_name"]
    memory = json.loads((out / "fold0" / "device.json").read_text())
    assert memory["peak_memory_gib"] > 0
    refused = runner.invoke(app, ["run", "--preset", "smoke", "--out", str(out), "--device", "cpu"])
    assert refused.exit_code == 2 and "ran its networks on cuda" in refused.output


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two GPUs")
def test_cells_over_two_gpus_equal_one_gpu(tmp_path):
    common = ["run", "--preset", "smoke", "--deterministic", *SMALL]
    one = runner.invoke(app, [*common, "--out", str(tmp_path / "one"), "--device", "cuda"])
    two = runner.invoke(app, [*common, "--out", str(tmp_path / "two"), "--gpus", "2"])
    assert one.exit_code == 0 and two.exit_code == 0, one.output + two.output
    a, b = (pd.read_csv(tmp_path / d / "results.csv") for d in ("one", "two"))
    pd.testing.assert_frame_equal(a, b)


def test_speed_on_cuda_reports_peaks_fractions_and_paper_predictions():
    result = runner.invoke(app, ["speed", "--preset", "smoke", "--device", "cuda", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report["matmul_gflops"]) == {"fp32", "tf32", "bf16"}
    assert report["matmul_gflops"]["tf32"] > report["matmul_gflops"]["fp32"] > 0
    assert 0 < report["train_fraction_of_peak"] < 1
    assert {"smoke", "paper", "paper loss grid"} <= set(report["predicted_network_seconds"])
