"""hl1ace and sl1ace against loop oracles of the authors' binning, MONAI's DiceLoss and CE."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from monai.losses import DiceLoss

from oodcalib.errors import OodcalibError
from oodcalib.segmentation.losses import get_loss
from oodcalib.segmentation.losses.ace import hard_ace, soft_ace, squared_dice_loss
from tests.segmentation.losses.helpers import (
    CLASSES,
    SEEDS,
    ce_np,
    gradcheck,
    one_hot_np,
    random_case,
    softmax_np,
)

EPS32 = float(np.finfo(np.float32).eps)


def hard_ace_np(p: np.ndarray, y: np.ndarray, bins: int = 20) -> float:
    """Right-closed bins ``(lo, hi]`` on ``linspace(0, 1 + eps, M + 1)``; absent classes 0."""
    edges = np.linspace(0.0, 1.0 + EPS32, bins + 1)
    total = 0.0
    for b in range(p.shape[0]):
        for c in range(p.shape[1]):
            pv, yv = p[b, c].ravel(), y[b, c].ravel()
            if yv.sum() == 0:
                continue
            members: dict[int, list[tuple[float, float]]] = {}
            for pi, yi in zip(pv, yv, strict=True):
                m = next(k for k in range(bins) if pi <= edges[k + 1])
                members.setdefault(m, []).append((pi, yi))
            gaps = [
                abs(np.mean([a for a, _ in v]) - np.mean([o for _, o in v]))
                for v in members.values()
            ]
            total += np.mean(gaps)
    return total / (p.shape[0] * p.shape[1])


def soft_ace_np(p: np.ndarray, y: np.ndarray, bins: int = 20, empty: float = 0.01) -> float:
    """The authors' soft binning, literally: half-bin edges and ±10000 outer boundaries."""
    half = np.linspace(0.0, 1.0 + EPS32, 2 * bins + 1)
    centres = half[1::2]
    replicated = np.concatenate([[-10000.0], np.repeat(centres, 2), [10000.0]])
    total = 0.0
    for b in range(p.shape[0]):
        for c in range(p.shape[1]):
            pv, yv = p[b, c].ravel(), y[b, c].ravel()
            if yv.sum() == 0:
                continue
            mass, sum_p, sum_y = np.zeros(bins), np.zeros(bins), np.zeros(bins)
            for pi, yi in zip(pv, yv, strict=True):
                j = int(np.sum(half[1:] < pi))  # torch.bucketize(right=False)
                left, right = max(j - 1, 0) // 2, min(j + 1, 2 * bins - 1) // 2
                to_left, to_right = pi - replicated[j], replicated[j + 2] - pi
                for k, w in (
                    (left, to_right / (to_left + to_right)),
                    (right, to_left / (to_left + to_right)),
                ):
                    mass[k] += w
                    sum_p[k] += w * pi
                    sum_y[k] += w * yi
            filled = mass >= empty
            total += np.mean(np.abs(sum_p[filled] / mass[filled] - sum_y[filled] / mass[filled]))
    return total / (p.shape[0] * p.shape[1])


def monai_dice(logits: torch.Tensor, target: torch.Tensor) -> float:
    """MONAI's Dice of the ACE objectives (one-hot given in the logits' dtype: MONAI's own
    ``to_onehot_y`` makes it float32, which costs float64 inputs about 1e-8)."""
    dice = DiceLoss(
        softmax=True, include_background=True, squared_pred=True, smooth_nr=0, smooth_dr=1e-5
    )
    onehot = F.one_hot(target, logits.shape[1]).permute(0, 3, 1, 2).to(logits.dtype)
    return float(dice(logits, onehot))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("seed", SEEDS)
def test_hl1ace_is_the_weighted_sum_of_its_oracles(seed, dtype):
    logits, target = random_case(seed, dtype=dtype)
    p, y = softmax_np(logits), one_hot_np(target, CLASSES)
    expected = 0.33 * (hard_ace_np(p, y) + monai_dice(logits, target) + ce_np(logits, target))
    tolerance = 1e-5 if dtype == torch.float32 else 1e-10
    assert float(get_loss("hl1ace")(logits, target)) == pytest.approx(expected, abs=tolerance)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("seed", SEEDS)
def test_sl1ace_is_the_weighted_sum_of_its_oracles(seed, dtype):
    logits, target = random_case(seed, dtype=dtype)
    p, y = softmax_np(logits), one_hot_np(target, CLASSES)
    expected = 0.33 * (soft_ace_np(p, y) + monai_dice(logits, target) + ce_np(logits, target))
    tolerance = 1e-5 if dtype == torch.float32 else 1e-10
    assert float(get_loss("sl1ace")(logits, target)) == pytest.approx(expected, abs=tolerance)


@pytest.mark.parametrize("seed", range(4))
def test_hyperparameters_reach_the_objective(seed):
    logits, target = random_case(seed, shape=(2, 3, 6, 6), scale=2.0)
    p, y = softmax_np(logits), one_hot_np(target, 3)
    weights = {"ace_weight": 0.5, "dice_weight": 0.2, "ce_weight": 0.3}
    dice, ce = monai_dice(logits, target), ce_np(logits, target)
    hard = get_loss("hl1ace", num_bins=7, **weights)(logits, target)
    assert float(hard) == pytest.approx(0.5 * hard_ace_np(p, y, 7) + 0.2 * dice + 0.3 * ce)
    soft = get_loss("sl1ace", num_bins=7, empty_weight=0.2, **weights)(logits, target)
    assert float(soft) == pytest.approx(0.5 * soft_ace_np(p, y, 7, 0.2) + 0.2 * dice + 0.3 * ce)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("seed", range(4))
def test_squared_dice_matches_monai(seed, dtype):
    logits, target = random_case(seed, dtype=dtype)
    ours = squared_dice_loss(logits.softmax(1), F.one_hot(target, CLASSES).permute(0, 3, 1, 2))
    assert ours.dtype == dtype
    assert float(ours) == pytest.approx(monai_dice(logits, target), rel=1e-6)


def test_hand_case_with_an_absent_class():
    """Uniform p = 1/3 over 3 classes, labels [0, 1]: each present class has one bin with
    e = 1/3, o = 1/2; class 2 is absent, adds 0, and still counts: ACE = (1/6 + 1/6 + 0)/3."""
    logits, target = torch.zeros(1, 3, 1, 2, dtype=torch.float64), torch.tensor([[[0, 1]]])
    for name in ("hl1ace", "sl1ace"):
        ace_only = get_loss(name, ace_weight=1.0, dice_weight=0.0, ce_weight=0.0)
        assert float(ace_only(logits, target)) == pytest.approx(1 / 9, abs=1e-12)


def test_hard_ace_hand_case_and_right_closed_bins():
    p = torch.tensor([[[0.21, 0.23, 0.9, 0.05]]], dtype=torch.float64)
    y = torch.tensor([[[0.0, 1.0, 1.0, 0.0]]], dtype=torch.float64)
    # 0.05 is the upper edge of bin 1, (0, 0.05]: alone there (gap 0.05); bins (0.2, 0.25]
    # and (0.85, 0.9] give |0.22 − 0.5| and |0.9 − 1|
    assert float(hard_ace(p, y)) == pytest.approx((0.28 + 0.1 + 0.05) / 3)


def test_hard_ace_gradient_flows_through_the_bin_means_only():
    """dACE/dp_i = sign(e_m − o_m) / (n_m · filled bins · B · C) for present classes."""
    logits, target = random_case(5, shape=(2, 3, 4, 4))
    onehot = F.one_hot(target, 3).permute(0, 3, 1, 2).double()
    probs = logits.softmax(1).detach().requires_grad_(True)
    present = onehot.flatten(2).sum(-1) > 0
    (hard_ace(probs, onehot) * present).mean().backward()
    edges = np.linspace(0.0, 1.0 + EPS32, 21)
    p, y = probs.detach().numpy(), onehot.numpy()
    expected = np.zeros_like(p)
    for b in range(2):
        for c in range(3):
            if y[b, c].sum() == 0:
                continue
            bins = np.searchsorted(edges[1:], p[b, c], side="left")
            filled = np.unique(bins)
            for m in filled:
                inside = bins == m
                gap = p[b, c][inside].mean() - y[b, c][inside].mean()
                expected[b, c][inside] = np.sign(gap) / (inside.sum() * len(filled) * 6)
    np.testing.assert_allclose(probs.grad.numpy(), expected, atol=1e-12)


def test_soft_equals_hard_when_every_value_sits_on_a_bin_centre():
    g = torch.Generator().manual_seed(0)
    centres = torch.linspace(0.0, 1.0 + EPS32, 41, dtype=torch.float64)[1::2]
    p = centres[torch.randint(0, 20, (2, 3, 30), generator=g)]
    y = (torch.rand(2, 3, 30, generator=g, dtype=torch.float64) < p).double()
    assert torch.allclose(soft_ace(p, y), hard_ace(p, y), atol=1e-12)


def test_an_almost_empty_soft_bin_is_dropped_below_the_threshold():
    """0.4752 gives 0.004 of its weight to the bin centred at 0.525: empty at 0.01; 0.875
    is a bin centre."""
    p = torch.tensor([[[0.4752, 0.875]]], dtype=torch.float64)
    y = torch.tensor([[[1.0, 0.0]]], dtype=torch.float64)
    dropped, kept = soft_ace(p, y, empty_weight=0.01), soft_ace(p, y, empty_weight=0.001)
    assert float(dropped) == pytest.approx(soft_ace_np(p[None].numpy(), y[None].numpy()))
    assert float(kept) == pytest.approx(soft_ace_np(p[None].numpy(), y[None].numpy(), 20, 0.001))
    # dropped: bins at 0.475 (gap 1 − 0.4752) and 0.875 (gap 0.875); kept adds |0.4752 − 1|
    assert float(dropped) == pytest.approx((0.5248 + 0.875) / 2)
    assert float(kept) == pytest.approx((0.5248 * 2 + 0.875) / 3)


def logits_away_from_bin_edges(seed: int, bins: int = 20) -> tuple[torch.Tensor, torch.Tensor]:
    """Random float64 logits whose probabilities stay 1e-4 away from every hard bin edge and
    soft bin centre (the kinks of both losses), for 20 and for 5 bins."""
    for attempt in range(100):
        logits, target = random_case(seed * 100 + attempt, shape=(1, 3, 3, 3), scale=1.5)
        edges = torch.linspace(0.0, 1.0, 2 * bins + 1, dtype=torch.float64)
        if (logits.softmax(1).unsqueeze(-1) - edges).abs().min() > 1e-4:
            return logits, target
    raise AssertionError("no case away from the bin edges")


@pytest.mark.parametrize("name", ["hl1ace", "sl1ace"])
@pytest.mark.parametrize("seed", range(3))
def test_gradcheck(name, seed):
    logits, target = logits_away_from_bin_edges(seed)
    assert gradcheck(get_loss(name), logits, target)
    assert gradcheck(get_loss(name, num_bins=5), logits, target)


@pytest.mark.parametrize("name, bins", [("hl1ace", 0), ("hl1ace", 2.5), ("sl1ace", 1)])
def test_bad_bin_counts_are_refused(name, bins):
    with pytest.raises(OodcalibError, match="num_bins"):
        get_loss(name, num_bins=bins)
