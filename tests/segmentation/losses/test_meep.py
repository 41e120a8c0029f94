"""meep_kl and meep_h against loop oracles; no error pixel; the binary-entropy variant."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from oodcalib.segmentation.losses import get_loss
from tests.segmentation.losses.helpers import (
    SEEDS,
    ce_np,
    gradcheck,
    random_case,
    softmax_np,
    value_and_grad,
)


def error_pixels(logits: torch.Tensor, target: torch.Tensor):
    """Class probabilities of every misclassified pixel (argmax ≠ label), by loops."""
    p, t = softmax_np(logits), target.numpy()
    for n in range(t.shape[0]):
        for i in range(t.shape[1]):
            for j in range(t.shape[2]):
                if int(np.argmax(p[n, :, i, j])) != t[n, i, j]:
                    yield p[n, :, i, j]


def meep_kl_np(logits, target, lam=0.3) -> float:
    terms = [np.mean(-np.log(np.clip(p, 1e-7, 1.0))) for p in error_pixels(logits, target)]
    return ce_np(logits, target) + lam * (np.mean(terms) if terms else 0.0)


def shannon(p: np.ndarray) -> float:
    return float(-np.sum(p * np.log(p)))


def meep_h_np(logits, target, lam=0.3) -> float:
    terms = [shannon(p) for p in error_pixels(logits, target)]
    return ce_np(logits, target) - lam * (np.mean(terms) if terms else 0.0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("seed", SEEDS)
def test_meep_matches_the_loop_oracles(seed, dtype):
    logits, target = random_case(seed, scale=[3.0, 12.0][seed % 2], dtype=dtype)
    lam = [0.3, 1.0, 0.05][seed % 3]
    tolerance = 1e-5 if dtype == torch.float32 else 1e-11
    kl, h = (
        get_loss("meep_kl", lam=lam)(logits, target),
        get_loss("meep_h", lam=lam)(logits, target),
    )
    assert kl.dtype == h.dtype == dtype
    assert float(kl) == pytest.approx(meep_kl_np(logits, target, lam), abs=tolerance)
    assert float(h) == pytest.approx(meep_h_np(logits, target, lam), abs=tolerance)


def test_hand_case():
    """Pixel 1 is right, pixel 2 wrong (argmax 0, label 1) with p = (e/(1+e), 1/(1+e))."""
    logits = torch.tensor([[[[3.0, 1.0]], [[1.0, 0.0]]]], dtype=torch.float64)  # (1, 2, 1, 2)
    target = torch.tensor([[[0, 1]]])
    ce = (np.log1p(np.exp(-2.0)) + np.log1p(np.e)) / 2
    p = np.array([np.e, 1.0]) / (1 + np.e)
    assert float(get_loss("meep_kl")(logits, target)) == pytest.approx(ce + 0.3 * -np.log(p).mean())
    assert float(get_loss("meep_h")(logits, target)) == pytest.approx(ce - 0.3 * shannon(p))


@pytest.mark.parametrize("name", ["meep_kl", "meep_h"])
def test_no_misclassified_pixel_leaves_cross_entropy_and_its_gradient(name):
    _, target = random_case(1)
    logits = 4.0 * F.one_hot(target, 4).permute(0, 3, 1, 2).double()
    logits = logits + 0.1 * torch.randn(
        logits.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    assert (logits.argmax(1) == target).all()
    value, grad = value_and_grad(get_loss(name), logits, target)
    ce_value, ce_grad = value_and_grad(F.cross_entropy, logits, target)
    assert float(value) == float(ce_value)
    assert torch.equal(grad, ce_grad)


def test_every_pixel_wrong_is_finite_and_matches_the_oracle():
    _, target = random_case(2)
    logits = 50.0 * F.one_hot((target + 1) % 4, 4).permute(0, 3, 1, 2).float()
    assert float(get_loss("meep_kl")(logits, target)) == pytest.approx(
        meep_kl_np(logits, target), rel=1e-6
    )
    assert float(get_loss("meep_h")(logits, target)) == pytest.approx(
        meep_h_np(logits, target), rel=1e-6
    )


def test_entropy_is_the_authors_binary_entropies_for_two_classes_only():
    """The authors average per-class binary entropies; for K = 2 that is Shannon's."""

    def binary_average(p: np.ndarray) -> float:
        return float(np.mean(-p * np.log(p) - (1 - p) * np.log(1 - p)))

    g = np.random.default_rng(0)
    for _ in range(20):
        p2 = g.dirichlet([1.0, 1.0])
        assert binary_average(p2) == pytest.approx(shannon(p2))
    p4 = g.dirichlet([1.0] * 4)
    assert binary_average(p4) != pytest.approx(shannon(p4))


@pytest.mark.parametrize("name", ["meep_kl", "meep_h"])
@pytest.mark.parametrize("seed", range(3))
def test_gradcheck(name, seed):
    logits, target = random_case(seed, shape=(1, 3, 3, 3), scale=2.0)
    assert gradcheck(get_loss(name), logits, target)
