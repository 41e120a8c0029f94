"""The calibration pool and its sampler: reproducible, shared, crops that keep the heart.

Also home of the miscalibrated toy (a frozen tiny U-Net whose logits are scaled up) that
the tests of the learned calibrators import.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from oodcalib.baselines.base import ScanLogits, softmax
from oodcalib.baselines.common.augmented_passes import TTA_AUGMENTATION, AugmentedPasses
from oodcalib.baselines.common.calibration_sampler import CalibrationSampler, step_schedule
from oodcalib.errors import OodcalibError
from oodcalib.seeding import derive_seed
from oodcalib.segmentation.augmentation import photometric
from oodcalib.segmentation.unet import UNet

#: Gain that gives the toy's "true" logits a per-pixel spread of about 2.
TRUE_GAIN = 3.0


class Scaled(nn.Module):
    """``scale * model(x)``: scale > 1 makes a calibrated model overconfident."""

    def __init__(self, model: nn.Module, scale: float):
        super().__init__()
        self.model, self.scale = model, scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scaled logits."""
        return self.scale * self.model(x)


def tiny_unet(seed: int = 0) -> nn.Module:
    """A frozen random U-Net (width 2, depth 2) with four classes."""
    torch.manual_seed(seed)
    return UNet(1, 4, width=2, depth=2).eval().requires_grad_(False)


def smooth_images(rng: np.random.Generator, slices: int, size: int) -> np.ndarray:
    """``(Z, H, W)`` images in ``[0, 1]``: bilinearly upsampled coarse noise."""
    coarse = torch.as_tensor(rng.random((slices, 1, size // 4, size // 4)), dtype=torch.float32)
    return F.interpolate(coarse, size=(size, size), mode="bilinear")[:, 0].numpy()


def toy_model_scans(
    base: nn.Module, overconfidence: float, n_scans: int, seed: int, slices: int = 3, size: int = 16
) -> list[ScanLogits]:
    """Labels drawn per pixel from ``softmax(z)``, ``z = TRUE_GAIN * base(image)``.

    The stored logits are ``overconfidence * z``, i.e. those of
    ``Scaled(base, overconfidence * TRUE_GAIN)``, the model the calibrators are given, so
    that logits recomputed from augmented images are just as overconfident.
    """
    rng = np.random.default_rng(seed)
    scans = []
    for i in range(n_scans):
        image = smooth_images(rng, slices, size)
        with torch.no_grad():
            z = TRUE_GAIN * base(torch.as_tensor(image).unsqueeze(1)).numpy()
        cdf = np.cumsum(np.moveaxis(softmax(z), 1, -1), axis=-1)
        u = rng.random(cdf.shape[:-1] + (1,))
        label = (u > cdf).sum(-1).clip(0, 3).astype(np.uint8)
        scans.append(ScanLogits(f"toy{seed}_{i}", image, overconfidence * z, label))
    return scans


def held_out_nll(calibrator, scans: list[ScanLogits], model: nn.Module) -> float:
    """Mean pixel NLL of ``calibrator.predict_proba`` against the scans' labels."""
    losses = []
    for scan in scans:
        p = calibrator.predict_proba(scan, model)
        picked = np.take_along_axis(p, scan.label[:, None].astype(np.int64), axis=1)
        losses.append(-np.log(np.clip(picked, 1e-12, None)).mean())
    return float(np.mean(losses))


def check_temperature_calibration(
    calibrator, scans: list[ScanLogits], model: nn.Module, t_min: float
) -> list[np.ndarray]:
    """Shared properties of a fitted per-pixel temperature calibrator; returns its maps.

    The logits' argmax, and one finite temperature per pixel in ``[t_min,
    MAX_TEMPERATURE]``, strictly positive. (That the predictions are probabilities of the
    logits' shape is checked for every calibrator in ``tests/baselines/test_contract.py``.)
    """
    from oodcalib.baselines.common.networks import MAX_TEMPERATURE

    maps = []
    for scan in scans:
        p, t = calibrator.predict_proba(scan, model), calibrator.temperature_map(scan, model)
        h, w = scan.image.shape[1:]
        assert t.shape == (len(scan.image), 1, h, w)
        assert np.isfinite(t).all() and t.min() > 0 and t.min() >= t_min
        assert t.max() <= MAX_TEMPERATURE
        np.testing.assert_array_equal(p.argmax(1), scan.logits.argmax(1))
        maps.append(t)
    return maps


def check_undoes_overconfidence(
    calibrator, scans: list[ScanLogits], model: nn.Module, overconfidence: float
) -> None:
    """Held-out NLL near the oracle ``softmax(z / overconfidence)``, far below UC's."""
    from oodcalib.baselines import TemperatureScaling, Uncalibrated

    oracle = TemperatureScaling()
    oracle.temperature_ = overconfidence
    best = held_out_nll(oracle, scans, model)
    assert best < held_out_nll(Uncalibrated(), scans, model) - 0.3  # really miscalibrated
    assert held_out_nll(calibrator, scans, model) < best + 0.1
    assert calibrator.nll_after_ < calibrator.nll_before_ - 0.3
    assert 2.5 < float(np.median(calibrator.temperature_map(scans[0], model))) < 8


def blob_scans(size: int = 32, slices: int = 4) -> list[ScanLogits]:
    """Scans whose foreground is one 3x3 blob per slice (slice 0 has none)."""
    rng = np.random.default_rng(0)
    label = np.zeros((slices, size, size), np.uint8)
    for z in range(1, slices):
        y, x = rng.integers(12, size - 12, 2)
        label[z, y - 1 : y + 2, x - 1 : x + 2] = z % 3 + 1
    image = smooth_images(rng, slices, size)
    logits = rng.normal(size=(slices, 4, size, size)).astype(np.float32)
    return [ScanLogits("blob", image, logits, label)]


def sampler(scans, model, seed, copies=0, augment=True, draws=3, **kwargs) -> CalibrationSampler:
    pool = AugmentedPasses(model, 11).calibration_pool(scans, draws, copies, augment)
    return CalibrationSampler(
        pool, kwargs.pop("batch_size", 4), torch.Generator().manual_seed(seed), **kwargs
    )


def fields(batch) -> dict[str, torch.Tensor]:
    return {k: v for k, v in vars(batch).items() if isinstance(v, torch.Tensor)}


@pytest.mark.parametrize("augment", [True, False])
@pytest.mark.parametrize("copies", [0, 2])
def test_same_seed_same_batches_other_seed_differs(augment, copies):
    scans, model = toy_model_scans(tiny_unet(), 4.0, 2, seed=0), Scaled(tiny_unet(), 12.0)
    a, b, c = (sampler(scans, model, s, copies=copies, augment=augment) for s in (5, 5, 6))
    for _ in range(2):
        ba, bb, bc = a.sample(), b.sample(), c.sample()
        assert fields(ba).keys() == fields(bb).keys()
        for key, value in fields(ba).items():
            torch.testing.assert_close(value, getattr(bb, key), rtol=0, atol=0)
        assert not torch.equal(ba.image, bc.image)


@pytest.mark.parametrize("crop", [8, 12])
@pytest.mark.parametrize("seed", range(3))
def test_crop_is_a_window_of_the_whole_batch_and_keeps_the_foreground(crop, seed):
    """Cropping comes after the draw, so a crop-free sampler with the same seed yields the
    whole batch; every crop must be a window of it holding foreground when there is any."""
    scans, model = blob_scans(), tiny_unet()
    whole = sampler(scans, model, seed, batch_size=6, copies=2).sample()
    cropped = sampler(scans, model, seed, batch_size=6, copies=2, crop=crop).sample()
    assert cropped.image.shape == (6, 1, crop, crop)
    assert cropped.logits.shape == cropped.mean.shape == cropped.spread.shape == (6, 4, crop, crop)
    assert cropped.label.shape == (6, crop, crop)
    for i in range(6):
        windows = whole.image[i, 0].unfold(0, crop, 1).unfold(1, crop, 1)
        hits = (windows == cropped.image[i, 0]).flatten(2).all(-1).nonzero()
        assert len(hits), "crop is not a window of the slice"
        top, left = hits[0].tolist()
        for key in ("logits", "label", "mean", "spread"):
            expected = getattr(whole, key)[i, ..., top : top + crop, left : left + crop]
            torch.testing.assert_close(getattr(cropped, key)[i], expected, rtol=0, atol=0)
        assert bool((cropped.label[i] > 0).any()) == bool((whole.label[i] > 0).any())
    assert (whole.label > 0).flatten(1).any(1).sum() >= 3  # the property was exercised


def test_crop_without_foreground_still_has_the_size():
    scan = blob_scans()[0]
    scan.label[:] = 0
    batch = sampler([scan], tiny_unet(), 0, crop=10).sample()
    assert batch.image.shape == (4, 1, 10, 10) and batch.label.shape == (4, 10, 10)


@pytest.mark.parametrize("augment", [True, False])
@pytest.mark.parametrize("copies", [1, 3])
def test_copies_give_probability_maps(augment, copies):
    scans, model = toy_model_scans(tiny_unet(), 4.0, 1, seed=1), Scaled(tiny_unet(), 12.0)
    batch = sampler(scans, model, 0, copies=copies, augment=augment).sample()
    assert batch.mean.shape == batch.spread.shape == batch.logits.shape
    assert float(batch.mean.min()) >= 0 and float(batch.mean.max()) <= 1
    torch.testing.assert_close(batch.mean.sum(1), torch.ones(4, 16, 16))
    assert float(batch.spread.min()) >= 0 and float(batch.spread.max()) <= 0.5
    if copies == 1:
        assert float(batch.spread.abs().max()) == 0


@pytest.mark.parametrize("copies", [1, 3])
def test_without_augmentation_the_pool_replays_stored_slices_and_copies(copies):
    """Oracle: replay each draw's copy generator by hand and take mean and std over the
    copies one copy at a time."""
    scans, model = toy_model_scans(tiny_unet(), 4.0, 2, seed=2), Scaled(tiny_unet(), 12.0)
    pool = AugmentedPasses(model, 3).calibration_pool(scans, 2, copies, augment=False)
    images = torch.as_tensor(np.concatenate([s.image for s in scans])).unsqueeze(1)
    n = len(images)
    assert len(pool) == 2 * n and pool.slices == n
    for j in range(2):
        part = slice(j * n, (j + 1) * n)
        np.testing.assert_array_equal(
            pool.logits[part].numpy(), np.concatenate([s.logits for s in scans])
        )
        np.testing.assert_array_equal(
            pool.label[part].numpy(), np.concatenate([s.label for s in scans])
        )
        np.testing.assert_array_equal(pool.image[part].numpy(), images.numpy())
        seed = derive_seed(derive_seed(3, "calibration-pool"), "pool-copies", j)
        stack = photometric(
            torch.cat([images] * copies), torch.Generator().manual_seed(seed), TTA_AUGMENTATION
        )
        with torch.no_grad():
            probs = np.stack(
                [torch.softmax(model(stack[n * c : n * (c + 1)]), 1).numpy() for c in range(copies)]
            )
        np.testing.assert_allclose(pool.mean[part].numpy(), probs.mean(0), atol=1e-5)
        np.testing.assert_allclose(pool.spread[part].numpy(), probs.std(0), atol=1e-5)


def test_pool_is_drawn_once_shared_across_copies_and_a_prefix_of_a_larger_one():
    """LTS (no copies) and Proposed (copies) see the same slices and logits, computed once;
    a pool of 2 draws is the first 2 draws of a pool of 4."""
    scans, model = toy_model_scans(tiny_unet(), 4.0, 2, seed=4), Scaled(tiny_unet(), 12.0)
    calls = []
    model.register_forward_hook(lambda m, a, o: calls.append(a[0].shape[0]))
    source = AugmentedPasses(model, 5)
    plain = source.calibration_pool(scans, 2)
    first = sum(calls)
    assert first == len(plain) == 2 * 6
    with_copies = source.calibration_pool(scans, 2, copies=3)
    assert sum(calls) - first == 3 * len(plain)  # only the copies are new passes
    assert source.calibration_pool(scans, 2, copies=3) is with_copies  # cached
    for key in ("image", "logits", "label"):
        torch.testing.assert_close(getattr(plain, key), getattr(with_copies, key), rtol=0, atol=0)
    larger = AugmentedPasses(model, 5).calibration_pool(scans, 4)
    torch.testing.assert_close(larger.image[: len(plain)], plain.image, rtol=0, atol=0)
    assert not torch.equal(larger.image[len(plain) :], plain.image)


@pytest.mark.parametrize("crop", [17, 64])
def test_crop_larger_than_the_slices_raises(crop):
    with pytest.raises(OodcalibError, match=f"crop {crop} px is larger"):
        sampler(toy_model_scans(tiny_unet(), 1.0, 1, 0), tiny_unet(), 0, crop=crop)


@pytest.mark.parametrize("iterations, drop_at", [(40, 30), (4, 3), (1, 1)])
def test_step_schedule_divides_by_ten_after_three_quarters(iterations, drop_at):
    optimiser = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    schedule, rates = step_schedule(optimiser, iterations), []
    for _ in range(iterations):
        rates.append(optimiser.param_groups[0]["lr"])
        optimiser.step()
        schedule.step()
    assert rates[:drop_at] == [1.0] * drop_at
    assert rates[drop_at:] == pytest.approx([0.1] * (iterations - drop_at))
