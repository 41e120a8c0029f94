"""Throughput measurement: FLOP counts against a hand count, rates and the speed command."""

import json

import pytest
import torch
from typer.testing import CliRunner

from oodcalib.cli import app
from oodcalib.segmentation.throughput import (
    count_flops,
    matmul_rates,
    onednn_product,
    unet_rates,
)
from oodcalib.segmentation.unet import UNet


def hand_count(net: torch.nn.Module, x: torch.Tensor) -> int:
    """2 x multiply-adds of every convolution, from the layers' shapes (hooks)."""
    total = []

    def conv(module, inputs, output):
        k = module.kernel_size[0] * module.kernel_size[1]
        total.append(2 * output.numel() * module.in_channels // module.groups * k)

    def transposed(module, inputs, output):
        k = module.kernel_size[0] * module.kernel_size[1]
        total.append(2 * inputs[0].numel() * module.out_channels * k)

    handles = [
        m.register_forward_hook(transposed if isinstance(m, torch.nn.ConvTranspose2d) else conv)
        for m in net.modules()
        if isinstance(m, torch.nn.Conv2d | torch.nn.ConvTranspose2d)
    ]
    with torch.no_grad():
        net(x)
    for handle in handles:
        handle.remove()
    return sum(total)


@pytest.mark.parametrize(("width", "depth", "size"), [(4, 2, 16), (8, 3, 32), (16, 4, 32)])
def test_unet_flops_are_the_sum_of_its_convolutions(width, depth, size):
    net, x = UNet(1, 4, width=width, depth=depth).eval(), torch.rand(2, 1, size, size)
    with torch.no_grad():
        assert count_flops(lambda: net(x)) == hand_count(net, x)


def test_rates_are_consistent_with_their_counts():
    rates = unet_rates(width=4, depth=2, size=16, batch=8, repeats=1)
    net = UNet(1, 4, width=4, depth=2).eval()
    assert rates["infer_flops"] == hand_count(net, torch.rand(8, 1, 16, 16))  # batches of 8
    assert 2 * rates["infer_flops"] < rates["train_flops"] < 4 * rates["infer_flops"]
    assert rates["infer_gflops"] == pytest.approx(
        rates["infer_flops"] / (8 * rates["infer_seconds_per_slice"]) / 1e9
    )
    assert rates["compile_seconds"] == 0
    # the channels_last layout computes the same network: the same FLOPs
    last = unet_rates(width=4, depth=2, size=16, batch=8, repeats=1, channels_last=True)
    assert (last["infer_flops"], last["train_flops"]) == (
        rates["infer_flops"],
        rates["train_flops"],
    )


onednn = pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="no oneDNN")


@onednn
@pytest.mark.parametrize("shape", [(1, 1, 1), (8, 16, 4), (33, 65, 17), (128, 128, 128)])
def test_onednn_product_is_the_matrix_product(shape):
    m, k, n = shape
    generator = torch.Generator().manual_seed(m + k + n)
    a, b = torch.randn(m, k, generator=generator), torch.randn(k, n, generator=generator)
    result = onednn_product(a, b)().to_dense()
    assert result.shape == (m, n)
    torch.testing.assert_close(result, a.double().matmul(b.double()).float(), rtol=1e-4, atol=1e-4)


def test_rates_of_each_library():
    rates = matmul_rates(size=64, repeats=1)
    assert set(rates) == ({"blas", "onednn"} if torch.backends.mkldnn.is_available() else {"blas"})
    assert all(rate > 0 for rate in rates.values())


def test_speed_command_prints_ratios_and_a_prediction():
    result = CliRunner().invoke(app, ["speed", "--preset", "smoke", "--json", "--repeats", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["infer_fraction_of_peak"] > 0 and report["train_fraction_of_peak"] > 0
    assert report["matmul_peak_gflops"] == max(report["matmul_gflops"].values())
    assert report["infer_fraction_of_peak"] == pytest.approx(
        report["infer_gflops"] / report["matmul_peak_gflops"]
    )
    assert set(report["predicted_network_seconds"]) == {"train", "logits", "passes", "pool"}
    text = CliRunner().invoke(app, ["speed", "--preset", "smoke", "--repeats", "1"]).output
    assert "% of peak" in text and "total" in text and "the faster of torch.matmul" in text
    bad = CliRunner().invoke(app, ["speed", "--preset", "huge"])
    assert bad.exit_code == 2 and "quick" in bad.output
