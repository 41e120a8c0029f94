"""Temperature nets: T is positive, finite, capped, and exactly 1 (+ offset) untrained."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oodcalib.baselines.common.networks import (
    MAX_TEMPERATURE,
    CalibrationNet,
    LTSNet,
    positive_temperature,
)

EXTREMES = [1.0, 1e3, 1e8, 1e20, 1e30]


def perturbed(net: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Add unit Gaussian noise to every weight, as a stand-in for an arbitrary trained net."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn(p.shape, generator=g))
    return net


def assert_valid_temperature(t: torch.Tensor, low: float = 0.0) -> None:
    t = t.detach()
    assert bool(torch.isfinite(t).all())
    assert float(t.min()) > low
    assert float(t.max()) <= MAX_TEMPERATURE


@pytest.mark.parametrize("offset", [0.0, 0.1, 2.0])
def test_positive_temperature_matches_formula_and_cap(offset):
    x = torch.linspace(-200, 200, 4001, dtype=torch.float64)
    expected = np.minimum(np.maximum(x.numpy() + 1, 0) + 1e-8 + offset, MAX_TEMPERATURE)
    np.testing.assert_allclose(positive_temperature(x, offset).numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("offset", [0.0, 0.1])
def test_positive_temperature_of_extreme_inputs(offset):
    x = torch.tensor([-float("inf"), -3.4e38, -1e10, -1.0, 0.0, 1e10, 3.4e38, float("inf")])
    t = positive_temperature(x, offset)
    assert_valid_temperature(t)
    assert t[:4].tolist() == pytest.approx([1e-8 + offset] * 4, rel=1e-6)
    assert t[-3:].tolist() == [MAX_TEMPERATURE] * 3


def test_positive_temperature_passes_gradient_above_the_kink_only():
    x = torch.tensor([-3.0, 0.5, 500.0], requires_grad=True)
    positive_temperature(x).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]


@pytest.mark.parametrize("shape", [(1, 4, 16, 16), (3, 2, 8, 24), (2, 5, 20, 12)])
@pytest.mark.parametrize("width", [2, 4])
def test_untrained_lts_net_gives_exactly_one(shape, width):
    n, c, h, w = shape
    g = torch.Generator().manual_seed(width)
    t = LTSNet(c, width)(
        torch.randn(shape, generator=g) * 10, torch.rand((n, 1, h, w), generator=g)
    )
    assert t.shape == (n, 1, h, w)
    assert bool((t == 1.0).all())


@pytest.mark.parametrize(
    "branches",
    [{"image": 1, "logits": 4}, {"image": 1, "logits": 3, "mean": 3, "spread": 3, "residual": 3}],
)
@pytest.mark.parametrize("width", [2, 4])
def test_untrained_calibration_net_gives_exactly_one_point_one(branches, width):
    g = torch.Generator().manual_seed(width)
    inputs = {k: torch.randn((2, c, 12, 20), generator=g) for k, c in branches.items()}
    t = CalibrationNet(branches, width)(inputs)
    assert t.shape == (2, 1, 12, 20)
    assert bool((t == torch.tensor(1.1)).all())


@pytest.mark.parametrize("magnitude", EXTREMES)
@pytest.mark.parametrize("seed", range(2))
def test_lts_net_temperature_is_valid_for_any_weights_and_inputs(magnitude, seed):
    torch.manual_seed(seed)
    net = perturbed(LTSNet(4, 4), seed)
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn((2, 4, 16, 16), generator=g) * magnitude
    image = torch.randn((2, 1, 16, 16), generator=g) * magnitude
    assert_valid_temperature(net(logits, image))


@pytest.mark.parametrize("magnitude", EXTREMES)
@pytest.mark.parametrize("seed", range(2))
def test_calibration_net_temperature_is_valid_for_any_weights_and_inputs(magnitude, seed):
    torch.manual_seed(seed)
    branches = {"image": 1, "logits": 4, "mean": 4}
    net = perturbed(CalibrationNet(branches, width=2), seed)
    g = torch.Generator().manual_seed(seed)
    inputs = {k: torch.randn((2, c, 16, 16), generator=g) * magnitude for k, c in branches.items()}
    assert_valid_temperature(net(inputs), low=CalibrationNet.offset - 1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_dividing_by_the_map_keeps_the_argmax(seed):
    """One temperature per pixel, shared by every class: the argmax cannot change."""
    torch.manual_seed(seed)
    net = perturbed(LTSNet(4, 2), seed)
    logits = torch.randn(2, 4, 16, 16)
    t = net(logits, torch.rand(2, 1, 16, 16))
    assert t.shape[1] == 1
    assert torch.equal(torch.softmax(logits / t, 1).argmax(1), logits.argmax(1))


def test_calibration_net_reads_only_its_named_branches():
    net = CalibrationNet({"image": 1, "logits": 4}, width=2)
    inputs = {"image": torch.rand(1, 1, 8, 8), "logits": torch.randn(1, 4, 8, 8)}
    out = net({**inputs, "spread": torch.full((1, 4, 8, 8), float("nan"))})
    torch.testing.assert_close(out, net(inputs))
    with pytest.raises(KeyError):
        net({"image": inputs["image"]})
