"""The calibration pixels of TS, IR and Platt: TS's pre-refactor sampling, exactly."""

from __future__ import annotations

import numpy as np
import pytest

from oodcalib.baselines import ScanLogits, TemperatureScaling
from oodcalib.baselines.common.calibration_pixels import calibration_pixels
from oodcalib.errors import OodcalibError
from tests.baselines.test_temperature_scaling import toy_scans


def legacy_pixels(scans, max_pixels, random_state):
    """TS's sampling before it moved to ``calibration_pixels`` (copied verbatim)."""
    logits = np.concatenate(
        [np.moveaxis(s.logits, 1, -1).reshape(-1, s.logits.shape[1]) for s in scans]
    )
    labels = np.concatenate([s.label.reshape(-1) for s in scans])
    if max_pixels is not None and len(labels) > max_pixels:
        rng = np.random.default_rng(random_state)
        keep = rng.choice(len(labels), max_pixels, replace=False)
        logits, labels = logits[keep], labels[keep]
    return logits, labels


def mixed_scans() -> list[ScanLogits]:
    """Scans of different slice counts, sizes and logit dtypes."""
    rng = np.random.default_rng(5)
    scans = []
    for i, (z, size, dtype) in enumerate(
        [(2, 8, np.float32), (3, 6, np.float16), (1, 10, np.float64)]
    ):
        logits = rng.normal(0, 3, (z, 4, size, size)).astype(dtype)
        label = rng.integers(0, 4, (z, size, size)).astype(np.uint8)
        scans.append(ScanLogits(f"m{i}", np.zeros((z, size, size)), logits, label))
    return scans


@pytest.mark.parametrize("max_pixels", [1, 37, 200, 335, 336, 10_000, None])
@pytest.mark.parametrize("seed", [0, 3])
def test_same_pixels_in_the_same_order_as_ts_before_the_refactor(max_pixels, seed):
    scans = mixed_scans()  # 2*64 + 3*36 + 100 = 336 pixels
    logits, labels = calibration_pixels(scans, max_pixels, seed)
    old_logits, old_labels = legacy_pixels(scans, max_pixels, seed)
    assert logits.dtype == np.float32 and labels.dtype == np.int64
    np.testing.assert_array_equal(logits, old_logits.astype(np.float32))
    np.testing.assert_array_equal(labels, old_labels)
    assert len(labels) == min(336, max_pixels or 336)


def test_ts_fits_exactly_the_temperature_of_the_legacy_pixels():
    """TS on the scans equals TS (without subsampling) on one scan holding the legacy
    subsample in its order: the refactor changed neither the pixels nor their order."""
    scans = toy_scans(3, 2.5, 0)
    ts = TemperatureScaling(max_pixels=500, random_state=9).fit(scans, None)
    logits, labels = legacy_pixels(scans, 500, 9)
    one = ScanLogits(
        "legacy", np.zeros((1, 1, 500)), logits.T[None, :, None, :], labels[None, None, :]
    )
    reference = TemperatureScaling(max_pixels=None).fit([one], None)
    assert ts.temperature_ == reference.temperature_
    assert ts.nll_after_ == reference.nll_after_


def test_the_seed_picks_the_pixels_only_when_subsampling():
    scans = mixed_scans()
    a, b = calibration_pixels(scans, 100, 0), calibration_pixels(scans, 100, 1)
    assert not np.array_equal(a[0], b[0])
    np.testing.assert_array_equal(calibration_pixels(scans, 100, 0)[0], a[0])
    np.testing.assert_array_equal(
        calibration_pixels(scans, None, 0)[0], calibration_pixels(scans, 336, 1)[0]
    )


def test_labels_and_class_counts_are_checked():
    scans = mixed_scans()
    with pytest.raises(OodcalibError, match="no calibration scans"):
        calibration_pixels([], None, 0)
    scans[1].label = None
    with pytest.raises(OodcalibError, match="without labels: m1"):
        calibration_pixels(scans, None, 0)
    scans = mixed_scans()
    scans[2].logits = scans[2].logits[:, :3]
    with pytest.raises(OodcalibError, match=r"different class counts: \[3, 4\]"):
        calibration_pixels(scans, None, 0)
