"""mbls against a loop oracle and hand cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from oodcalib.errors import OodcalibError
from oodcalib.segmentation.losses import get_loss
from tests.segmentation.losses.helpers import SEEDS, ce_np, gradcheck, random_case


def mbls_np(logits: torch.Tensor, target: torch.Tensor, margin=5.0, alpha=0.1) -> float:
    x = logits.detach().double().numpy()
    n_images, classes, height, width = x.shape
    total = 0.0
    for n in range(n_images):
        for i in range(height):
            for j in range(width):
                largest = max(x[n, k, i, j] for k in range(classes))
                for k in range(classes):
                    total += max(largest - x[n, k, i, j] - margin, 0.0)
    return ce_np(logits, target) + alpha * total / x.size


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("seed", SEEDS)
def test_mbls_matches_the_loop_oracle(seed, dtype):
    logits, target = random_case(seed, scale=4.0, dtype=dtype)
    margin, alpha = [(5.0, 0.1), (2.0, 0.5), (10.0, 0.1), (0.0, 1.0)][seed % 4]
    ours = get_loss("mbls", margin=margin, alpha=alpha)(logits, target)
    assert ours.dtype == dtype
    tolerance = 1e-5 if dtype == torch.float32 else 1e-12
    assert float(ours) == pytest.approx(mbls_np(logits, target, margin, alpha), abs=tolerance)


def test_hand_case():
    """Logits (10, 2, 9): distances (0, 8, 1), only 8 − 5 = 3 exceeds the margin."""
    logits = torch.tensor([10.0, 2.0, 9.0], dtype=torch.float64).view(1, 3, 1, 1)
    target = torch.tensor([[[2]]])
    ce = -(9 - np.log(np.exp(10) + np.exp(2) + np.exp(9)))
    assert float(get_loss("mbls")(logits, target)) == pytest.approx(ce + 0.1 * 3 / 3)
    x = logits.clone().requires_grad_(True)
    get_loss("mbls", alpha=1.0)(x, target).backward()
    ce_grad = torch.autograd.grad(F.cross_entropy(x, target), x)[0]
    penalty_grad = (x.grad - ce_grad).view(3).tolist()
    assert penalty_grad == pytest.approx([1 / 3, -1 / 3, 0.0])  # largest up, trailing down


def test_a_wide_margin_leaves_cross_entropy():
    logits, target = random_case(0, scale=2.0)
    assert float(get_loss("mbls", margin=100.0)(logits, target)) == pytest.approx(
        float(F.cross_entropy(logits, target)), abs=1e-14
    )


@pytest.mark.parametrize("seed", range(3))
def test_gradcheck(seed):
    logits, target = random_case(seed, shape=(1, 3, 3, 3), scale=4.0)
    assert gradcheck(get_loss("mbls", margin=2.0), logits, target)


def test_negative_values_are_refused():
    with pytest.raises(OodcalibError, match="margin must be >= 0"):
        get_loss("mbls", margin=-1.0)
