"""Susceptibility maps: replayable passes, hand-computed mean and spread, the pass cache."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oodcalib.baselines.base import ScanLogits
from oodcalib.baselines.common.augmented_passes import (
    TTA_AUGMENTATION,
    AugmentedPasses,
    PassStatistics,
    extend_passes,
    susceptibility,
)
from oodcalib.errors import OodcalibError
from oodcalib.seeding import derive_seed
from oodcalib.segmentation.augmentation import photometric
from tests.baselines.common.test_calibration_sampler import Scaled, smooth_images, tiny_unet


def toy_scan(slices: int = 3, size: int = 16, seed: int = 0) -> ScanLogits:
    image = smooth_images(np.random.default_rng(seed), slices, size)
    return ScanLogits(f"case{seed}", image, np.zeros((slices, 4, size, size), np.float32))


def passes_by_hand(model, image: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``(n, Z, C, H, W)`` softmax of each pass, one pass (the whole stack) at a time."""
    x = torch.as_tensor(image).unsqueeze(1)
    with torch.no_grad():
        return np.stack(
            [
                torch.softmax(
                    model(
                        photometric(
                            x, torch.Generator().manual_seed(derive_seed(seed, i)), TTA_AUGMENTATION
                        )
                    ),
                    1,
                ).numpy()
                for i in range(n)
            ]
        )


def stats(model, image, n, seed, batch_size=32, start=None) -> PassStatistics:
    start = start or PassStatistics.empty((image.shape[0], 4, *image.shape[1:]))
    return extend_passes(start, model, image, n, seed, batch_size=batch_size)


@pytest.mark.parametrize("n, m", [(1, 5), (2, 7), (4, 4)])
@pytest.mark.parametrize("seed", [0, 3])
def test_extending_n_passes_to_m_equals_m_passes(n, m, seed):
    model, image = tiny_unet(), toy_scan(seed=seed).image
    direct = stats(model, image, m, seed)
    short = stats(model, image, n, seed)
    before = short.total.copy()
    extended = stats(model, image, m, seed, start=short)
    np.testing.assert_array_equal(short.total, before)  # the input is not modified
    assert extended.count == direct.count == m
    # Equal up to float32 round-off: convolutions of differently composed batches differ
    # in the last bit, so bitwise equality is not promised.
    np.testing.assert_allclose(extended.total, direct.total, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(extended.total_sq, direct.total_sq, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(extended.mean, direct.mean, atol=1e-6)


@pytest.mark.parametrize("num_aug", [1, 3, 6])
@pytest.mark.parametrize("batch_size", [2, 5, 32])
@pytest.mark.parametrize("slices", [1, 4])
def test_mean_and_spread_equal_hand_statistics_of_the_passes(num_aug, batch_size, slices):
    model, image = Scaled(tiny_unet(1), 10.0), toy_scan(slices=slices, seed=slices).image
    result = stats(model, image, num_aug, seed=11, batch_size=batch_size)
    probs = passes_by_hand(model, image, num_aug, seed=11)
    assert result.mean.shape == result.spread.shape == probs.shape[1:]
    assert result.mean.dtype == result.spread.dtype == np.float32
    # Tolerances: float32 round-off of batched vs one-pass convolutions, amplified by x10.
    np.testing.assert_allclose(result.mean, probs.mean(0), atol=2e-5)
    np.testing.assert_allclose(result.spread, np.std(probs, axis=0), atol=2e-5)
    assert float(np.std(probs, axis=0).max()) > 0.01 or num_aug == 1  # passes do differ


def test_one_pass_has_zero_spread_and_empty_stats_are_zero():
    model, image = tiny_unet(), toy_scan().image
    one = stats(model, image, 1, seed=0)
    assert one.count == 1 and not one.spread.any()
    empty = PassStatistics.empty((3, 4, 16, 16))
    assert empty.count == 0 and not empty.mean.any() and not empty.spread.any()


def test_asking_for_fewer_passes_keeps_the_statistics():
    model, image = tiny_unet(), toy_scan().image
    three = stats(model, image, 3, seed=0)
    again = stats(model, image, 2, seed=0, start=three)
    assert again.count == 3
    np.testing.assert_array_equal(again.total, three.total)


def test_model_mode_is_restored():
    model, image = tiny_unet().train(), toy_scan().image
    stats(model, image, 2, seed=0)
    assert model.training


@pytest.mark.parametrize("seed", [0, 5])
@pytest.mark.parametrize("domain", ["val", "motion"])
def test_one_seeding_scheme_by_seed_domain_and_case_id(seed, domain):
    model, scan = tiny_unet(), toy_scan(seed=1)
    scan.domain, scan.passes = domain, AugmentedPasses(model, seed)
    mean, spread = susceptibility(scan, model, 3)
    expected = stats(
        model, scan.image, 3, derive_seed(seed, "passes", domain, scan.case_id), batch_size=8
    )  # the batches of AugmentedPasses: the same sums, bit for bit
    np.testing.assert_array_equal(mean, expected.mean)
    np.testing.assert_array_equal(spread, expected.spread)
    for other in (
        ScanLogits("another-case", scan.image, scan.logits, domain=domain),
        ScanLogits(scan.case_id, scan.image, scan.logits, domain="other"),
    ):
        other.passes = scan.passes
        assert not np.array_equal(susceptibility(other, model, 3)[0], mean)


def test_a_scan_without_passes_uses_seed_zero():
    model, scan = tiny_unet(), toy_scan(seed=2)
    plain = susceptibility(scan, model, 2)[0]
    scan.passes = AugmentedPasses(model, seed=0)
    np.testing.assert_array_equal(plain, susceptibility(scan, model, 2)[0])


class RecordingPasses(AugmentedPasses):
    """Fake pass source: records each ``n`` it is asked for and returns marked arrays."""

    def __init__(self, shape):
        super().__init__(model=None)
        self.shape, self.calls = shape, []

    def statistics(self, domain, case_id, image, num_aug):
        self.calls.append(num_aug)
        marked = np.full(self.shape, num_aug, np.float32)
        return type("Marked", (), {"mean": marked, "spread": -marked})()


class Exploding(torch.nn.Module):
    def forward(self, x):
        raise AssertionError("the model must not run when cached passes exist")


@pytest.mark.parametrize("num_aug", [1, 15, 180])
def test_cached_passes_are_used_when_present(num_aug):
    scan = toy_scan()
    scan.passes = RecordingPasses(scan.logits.shape)
    mean, spread = susceptibility(scan, Exploding(), num_aug)
    assert scan.passes.calls == [num_aug]
    assert (mean == num_aug).all() and (spread == -num_aug).all()


@pytest.mark.parametrize("num_aug", [0, -1])
def test_fewer_than_one_pass_raises(num_aug):
    scan = toy_scan()
    scan.passes = RecordingPasses(scan.logits.shape)
    with pytest.raises(OodcalibError, match="num_aug must be >= 1"):
        susceptibility(scan, Exploding(), num_aug)
    assert scan.passes.calls == []
