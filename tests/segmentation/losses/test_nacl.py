"""nacl and svls against loop oracles of the authors' priors and MONAI's ``NACLLoss``."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from monai.losses import NACLLoss

from oodcalib.errors import OodcalibError
from oodcalib.segmentation.losses import get_loss
from oodcalib.segmentation.losses.nacl import svls_kernel, svls_labels, window_share
from tests.segmentation.losses.helpers import (
    CLASSES,
    SEEDS,
    ce_np,
    gradcheck,
    log_softmax_np,
    one_hot_np,
    random_case,
)


def window_share_np(target: torch.Tensor, classes: int, size: int = 3) -> np.ndarray:
    """Share of each label in the window; positions outside the image are label 0."""
    t, r = target.numpy(), size // 2
    n_images, height, width = t.shape
    out = np.zeros((n_images, classes, height, width))
    for n in range(n_images):
        for i in range(height):
            for j in range(width):
                for a in range(i - r, i + r + 1):
                    for b in range(j - r, j + r + 1):
                        inside = 0 <= a < height and 0 <= b < width
                        out[n, t[n, a, b] if inside else 0, i, j] += 1 / size**2
    return out


def authors_kernel(sigma: float, size: int = 3) -> np.ndarray:
    """``get_svls_filter_2d``'s recipe: normalised Gaussian, centre := 1 − centre, / that."""
    grid = np.arange(size) - (size - 1) / 2
    gauss = np.exp(-(grid[:, None] ** 2 + grid[None, :] ** 2) / (2 * sigma**2))
    gauss = gauss / (2 * math.pi * sigma**2)
    gauss /= gauss.sum()
    neighbours = 1 - gauss[size // 2, size // 2]
    gauss[size // 2, size // 2] = neighbours
    return gauss / neighbours


def svls_labels_np(target: torch.Tensor, classes: int, sigma: float, size: int = 3):
    """Per-class convolution with replicate padding (clamped indices), / kernel sum."""
    kernel, onehot, r = authors_kernel(sigma, size), one_hot_np(target, classes), size // 2
    n_images, _, height, width = onehot.shape
    out = np.zeros_like(onehot)
    for n in range(n_images):
        for c in range(classes):
            for i in range(height):
                for j in range(width):
                    for a in range(size):
                        for b in range(size):
                            ii = min(max(i + a - r, 0), height - 1)
                            jj = min(max(j + b - r, 0), width - 1)
                            out[n, c, i, j] += kernel[a, b] * onehot[n, c, ii, jj]
    return out / kernel.sum()


def nacl_np(logits, target, alpha=0.1, kernel_size=3, prior="mean", sigma=1.0, distance="l1"):
    classes = logits.shape[1]
    tau = (
        window_share_np(target, classes, kernel_size)
        if prior == "mean"
        else svls_labels_np(target, classes, sigma, kernel_size)
    )
    gap = tau - logits.detach().double().numpy()
    penalty = np.abs(gap) if distance == "l1" else gap**2
    return ce_np(logits, target) + alpha * penalty.mean()


def svls_np(logits, target, sigma=1.0):
    smoothed, log_p = svls_labels_np(target, logits.shape[1], sigma), log_softmax_np(logits)
    return float(-(smoothed * log_p).sum(axis=1).mean())


VARIANTS = [
    {},
    {"prior": "gaussian"},
    {"distance": "l2"},
    {"kernel_size": 5, "alpha": 0.3},
    {"prior": "gaussian", "sigma": 2.0, "kernel_size": 5, "distance": "l2"},
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("seed", SEEDS)
def test_nacl_and_svls_match_the_loop_oracles(seed, dtype):
    logits, target = random_case(seed, shape=(2, CLASSES, 5, 6), dtype=dtype)
    tolerance = 1e-5 if dtype == torch.float32 else 1e-11
    variant = VARIANTS[seed % len(VARIANTS)]
    ours = get_loss("nacl", **variant)(logits, target)
    assert ours.dtype == dtype
    assert float(ours) == pytest.approx(nacl_np(logits, target, **variant), abs=tolerance)
    sigma = 1.0 + seed % 3 / 2
    assert float(get_loss("svls", sigma=sigma)(logits, target)) == pytest.approx(
        svls_np(logits, target, sigma), abs=tolerance
    )


def test_window_share_hand_case():
    """Every pixel of a 2x2 map sees the whole map and 5 padded (background) positions."""
    share = window_share(torch.tensor([[[1, 2], [0, 1]]]), 3, dtype=torch.float64)
    expected = torch.tensor([6 / 9, 2 / 9, 1 / 9], dtype=torch.float64).view(1, 3, 1, 1)
    assert torch.allclose(share, expected.expand(1, 3, 2, 2), atol=1e-15)


def test_svls_kernel_and_labels_hand_case():
    edge, corner = math.exp(-0.5), math.exp(-1.0)
    kernel = svls_kernel(1.0, dtype=torch.float64)
    assert float(kernel[1, 1]) == pytest.approx(0.5)
    assert float(kernel[0, 1]) == pytest.approx(edge / (2 * (4 * edge + 4 * corner)))
    assert float(kernel[0, 0]) == pytest.approx(corner / (2 * (4 * edge + 4 * corner)))
    np.testing.assert_allclose(kernel.numpy(), authors_kernel(1.0) / 2, atol=1e-15)
    np.testing.assert_allclose(
        svls_kernel(2.0, 5, torch.float64).numpy(),
        authors_kernel(2.0, 5) / authors_kernel(2.0, 5).sum(),
        atol=1e-15,
    )
    # 1x3 map [0, 1, 1], left pixel: its right column (one edge, two corners) is class 1
    smoothed = svls_labels(torch.tensor([[[0, 1, 1]]]), 2, dtype=torch.float64)
    share = (edge + 2 * corner) / (2 * (4 * edge + 4 * corner))
    assert smoothed[0, :, 0, 0].tolist() == pytest.approx([1 - share, share])
    assert torch.allclose(smoothed.sum(1), torch.ones(1, 1, 3, dtype=torch.float64))


def test_svls_on_a_constant_map_is_cross_entropy():
    logits, _ = random_case(0)
    target = torch.full((2, 5, 5), 2)
    assert float(get_loss("svls")(logits, target)) == pytest.approx(ce_np(logits, target))


@pytest.mark.parametrize("seed", range(4))
def test_mean_prior_is_monai_but_for_the_border_background(seed):
    """MONAI zero-pads the one-hot map, the authors pad the label map with background: the
    priors differ only on channel 0, by the share of padded positions in the window."""
    logits, target = random_case(seed, shape=(2, CLASSES, 5, 6))
    monai = NACLLoss(classes=CLASSES, dim=2, kernel_ops="mean", alpha=0.1)
    padded = 1 - window_share(torch.ones_like(target), 2, dtype=torch.float64)[:, 1]
    ours = window_share(target, CLASSES, dtype=torch.float64)
    theirs = monai.get_constr_target(target).double()
    assert torch.allclose(ours[:, 1:], theirs[:, 1:], atol=1e-7)
    assert torch.allclose(ours[:, 0], theirs[:, 0] + padded, atol=1e-7)
    # with l_0 above every prior, |τ_0 − l_0| = l_0 − τ_0: the losses differ by α·padded/N
    logits[:, 0] = logits[:, 0].abs() + 1
    difference = float(monai(logits, target) - get_loss("nacl")(logits, target))
    assert difference == pytest.approx(0.1 * float(padded.sum()) / logits.numel(), rel=1e-5)


class AuthorsSvls(torch.nn.Module):
    """The authors' SVLS layer: a grouped Conv2d with replicate padding, / kernel sum."""

    def __init__(self, sigma: float, classes: int, size: int = 3):
        super().__init__()
        kernel = torch.tensor(authors_kernel(sigma, size), dtype=torch.float32)
        self.conv = torch.nn.Conv2d(
            classes,
            classes,
            size,
            groups=classes,
            bias=False,
            padding=size // 2,
            padding_mode="replicate",
        )
        self.conv.weight.data = kernel.expand(classes, 1, size, size).clone()
        self.total = float(kernel.sum())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) / self.total


@pytest.mark.parametrize("seed", range(4))
def test_gaussian_prior_differs_from_monai_by_the_kernel_only(seed):
    """MONAI's "gaussian" prior is a plain Gaussian filter; given the authors' SVLS layer
    instead, MONAI's NACLLoss gives our loss."""
    logits, target = random_case(seed, shape=(2, CLASSES, 5, 6), scale=0.5, dtype=torch.float32)
    ours = float(get_loss("nacl", prior="gaussian", sigma=1.0)(logits, target))
    ours_prior = svls_labels(target, CLASSES, 1.0)
    monai = NACLLoss(classes=CLASSES, dim=2, kernel_ops="gaussian", sigma=1.0, alpha=0.1)
    assert (monai.get_constr_target(target) - ours_prior).abs().max() > 0.05
    assert abs(float(monai(logits, target)) - ours) > 1e-4
    monai.svls_layer = AuthorsSvls(1.0, CLASSES)
    assert torch.allclose(monai.get_constr_target(target), ours_prior, atol=1e-6)
    assert float(monai(logits, target).detach()) == pytest.approx(ours, abs=1e-6)


@pytest.mark.parametrize("variant", VARIANTS)
def test_nacl_gradcheck(variant):
    logits, target = random_case(1, shape=(1, 3, 4, 4), scale=1.5)
    assert gradcheck(get_loss("nacl", **variant), logits, target)


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.0])
def test_svls_gradcheck(sigma):
    logits, target = random_case(2, shape=(1, 3, 4, 4), scale=1.5)
    assert gradcheck(get_loss("svls", sigma=sigma), logits, target)


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"prior": "median"}, "prior 'median' is not one of mean, gaussian"),
        ({"distance": "l3"}, "distance 'l3' is not one of l1, l2"),
        ({"kernel_size": 4}, "kernel_size must be odd"),
        ({"sigma": 0.0}, "sigma must be > 0"),
        ({"alpha": -1.0}, "alpha must be >= 0"),
    ],
)
def test_bad_hyperparameter_values_are_refused(bad, match):
    with pytest.raises(OodcalibError, match=match):
        get_loss("nacl", **bad)
    with pytest.raises(OodcalibError, match="sigma must be > 0"):
        get_loss("svls", sigma=-1)
