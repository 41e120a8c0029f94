"""ls, focal and ecp against torch's label smoothing, MONAI's FocalLoss and loop oracles."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from monai.losses import FocalLoss

from oodcalib.segmentation.losses import get_loss
from tests.segmentation.losses.helpers import (
    SEEDS,
    ce_np,
    gradcheck,
    log_softmax_np,
    random_case,
    softmax_np,
    value_and_grad,
)


def per_pixel(logits: torch.Tensor, target: torch.Tensor):
    """(log p of every class, index of the label) for each pixel, by explicit loops."""
    log_p, t = log_softmax_np(logits), target.numpy()
    for n in range(t.shape[0]):
        for i in range(t.shape[1]):
            for j in range(t.shape[2]):
                yield log_p[n, :, i, j], t[n, i, j]


def ls_np(logits, target, alpha=0.1) -> float:
    terms = [(1 - alpha) * -lp[y] + alpha * np.mean(-lp) for lp, y in per_pixel(logits, target)]
    return float(np.mean(terms))


def focal_np(logits, target, gamma=3.0) -> float:
    terms = [-((1 - np.exp(lp[y])) ** gamma) * lp[y] for lp, y in per_pixel(logits, target)]
    return float(np.mean(terms))


def ecp_np(logits, target, beta=0.1) -> float:
    p = np.clip(softmax_np(logits), 1e-10, 1 - 1e-10)
    return ce_np(logits, target) - beta * float(np.mean(-p * np.log(p)))


DTYPES = [torch.float32, torch.float64]


def tolerance(dtype) -> float:
    return 1e-5 if dtype == torch.float32 else 1e-12


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_ls_is_torch_label_smoothing_and_the_oracle(seed, dtype):
    logits, target = random_case(seed, dtype=dtype)
    alpha = [0.1, 0.0, 0.3, 1.0][seed % 4]
    ours = float(get_loss("ls", alpha=alpha)(logits, target))
    torch_ls = float(F.cross_entropy(logits, target, label_smoothing=alpha))
    assert ours == pytest.approx(torch_ls, abs=tolerance(dtype))
    assert ours == pytest.approx(ls_np(logits, target, alpha), abs=tolerance(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_focal_is_monai_focal_times_classes_and_the_oracle(seed, dtype):
    """MONAI's softmax focal loss is 0 off the label and its "mean" runs over the classes
    too, so it is ours divided by K. (MONAI computes in float32 whatever the input.)"""
    logits, target = random_case(seed, dtype=dtype)
    gamma = [3.0, 0.0, 1.0, 2.5][seed % 4]
    ours = float(get_loss("focal", gamma=gamma)(logits, target))
    monai = FocalLoss(use_softmax=True, gamma=gamma, to_onehot_y=True, reduction="mean")
    classes = logits.shape[1]
    assert ours == pytest.approx(classes * float(monai(logits, target.unsqueeze(1))), rel=1e-6)
    assert ours == pytest.approx(focal_np(logits, target, gamma), abs=tolerance(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_ecp_matches_the_oracle(seed, dtype):
    logits, target = random_case(seed, scale=[3.0, 30.0][seed % 2], dtype=dtype)
    beta = [0.1, 0.5, 0.0][seed % 3]
    ours = float(get_loss("ecp", beta=beta)(logits, target))
    assert ours == pytest.approx(ecp_np(logits, target, beta), abs=tolerance(dtype))


def test_hand_cases():
    logits = torch.tensor([2.0, 0.0], dtype=torch.float64).view(1, 2, 1, 1)
    target = torch.tensor([[[0]]])
    log_p0, log_p1 = -np.log1p(np.exp(-2.0)), -np.log1p(np.exp(2.0))
    assert float(get_loss("ls")(logits, target)) == pytest.approx(
        0.9 * -log_p0 + 0.1 * -(log_p0 + log_p1) / 2
    )
    assert float(get_loss("focal")(logits, target)) == pytest.approx(
        -((1 - np.exp(log_p0)) ** 3) * log_p0
    )
    p0, p1 = np.exp(log_p0), np.exp(log_p1)
    entropy_over_classes = -(p0 * log_p0 + p1 * log_p1) / 2
    assert float(get_loss("ecp")(logits, target)) == pytest.approx(
        -log_p0 - 0.1 * entropy_over_classes
    )


def test_zero_strength_gives_cross_entropy():
    logits, target = random_case(3)
    ce = float(F.cross_entropy(logits, target))
    for name, parameters in [
        ("ls", {"alpha": 0.0}),
        ("focal", {"gamma": 0.0}),
        ("ecp", {"beta": 0.0}),
    ]:
        assert float(get_loss(name, **parameters)(logits, target)) == pytest.approx(ce)


def test_focal_below_gamma_one_is_finite_at_a_certain_pixel():
    logits = torch.tensor([60.0, -60.0]).view(1, 2, 1, 1)  # p_y = 1 in float32
    for gamma in (0.0, 0.5):
        value, grad = value_and_grad(get_loss("focal", gamma=gamma), logits, torch.tensor([[[0]]]))
        assert torch.isfinite(value) and torch.isfinite(grad).all()


@pytest.mark.parametrize(
    "name, parameters",
    [
        ("ls", {}),
        ("ls", {"alpha": 0.5}),
        ("focal", {}),
        ("focal", {"gamma": 0.5}),
        ("ecp", {}),
        ("ecp", {"beta": 1.0}),
    ],
)
def test_gradcheck(name, parameters):
    logits, target = random_case(4, shape=(1, 3, 3, 3), scale=2.0)
    assert gradcheck(get_loss(name, **parameters), logits, target)
