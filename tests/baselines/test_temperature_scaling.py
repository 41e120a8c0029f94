"""TS: recovers the temperature of a miscalibrated toy, keeps the argmax, bounded T.

The interface (get/set_params, NotFittedError, probabilities, pickling) is checked for
every calibrator in ``tests/baselines/test_contract.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oodcalib.baselines import (
    CALIBRATORS,
    ScanLogits,
    TemperatureScaling,
    Uncalibrated,
    get_calibrator,
    softmax,
)
from oodcalib.errors import OodcalibError, UnknownNameError


def toy_scans(n_scans: int, temperature: float, seed: int) -> list[ScanLogits]:
    """Miscalibrated toy: labels drawn from softmax(z), logits reported as z * temperature."""
    rng = np.random.default_rng(seed)
    scans = []
    for i in range(n_scans):
        z = rng.normal(0, 2, size=(2, 4, 16, 16)).astype(np.float32)
        p = softmax(z)
        cdf = np.cumsum(np.moveaxis(p, 1, -1), axis=-1)
        u = rng.random(cdf.shape[:-1] + (1,))
        label = (u > cdf).sum(-1).clip(0, 3).astype(np.uint8)
        scans.append(ScanLogits(f"c{i}", np.zeros((2, 16, 16), np.float32), z * temperature, label))
    return scans


def nll(calibrator, scans) -> float:
    losses = []
    for s in scans:
        p = calibrator.predict_proba(s, None)
        picked = np.take_along_axis(p, s.label[:, None].astype(np.int64), axis=1)
        losses.append(-np.log(np.clip(picked, 1e-12, None)).mean())
    return float(np.mean(losses))


@pytest.mark.parametrize("true_scale", [0.4, 2.5, 4.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_fit_recovers_temperature_and_lowers_nll(true_scale, seed):
    scans = toy_scans(3, true_scale, seed)
    ts = TemperatureScaling(random_state=seed).fit(scans, None)
    assert ts.temperature_ == pytest.approx(true_scale, rel=0.1)
    assert ts.nll_after_ < ts.nll_before_
    held_out = toy_scans(2, true_scale, seed + 100)
    assert nll(ts, held_out) < nll(Uncalibrated().fit([], None), held_out)


@pytest.mark.parametrize("seed", range(4))
def test_argmax_never_changes(seed):
    scans = toy_scans(2, 3.0, seed)
    ts = TemperatureScaling().fit(scans, None)
    for s in scans:
        np.testing.assert_array_equal(ts.predict_proba(s, None).argmax(1), s.logits.argmax(1))
    assert ts.temperature_ > 0


def test_temperature_one_equals_uncalibrated():
    scan = toy_scans(1, 1.0, 0)[0]
    ts = TemperatureScaling()
    ts.temperature_ = 1.0
    np.testing.assert_allclose(
        ts.predict_proba(scan, None),
        Uncalibrated().fit([], None).predict_proba(scan, None),
        atol=1e-7,
    )
    np.testing.assert_allclose(
        Uncalibrated().predict_proba(scan, None),
        torch.softmax(torch.tensor(scan.logits), 1).numpy(),
        atol=1e-6,
    )


def test_fitted_state_is_the_temperature_and_the_nlls():
    ts = get_calibrator("ts", max_iter=5, random_state=3).fit(toy_scans(1, 2.0, 0), None)
    assert ts.fitted_state() == {
        "temperature_": ts.temperature_,
        "nll_before_": ts.nll_before_,
        "nll_after_": ts.nll_after_,
    }


def test_fit_needs_labels_and_registry_lists_names():
    scan = toy_scans(1, 1.0, 0)[0]
    scan.label = None
    with pytest.raises(OodcalibError, match="without labels"):
        TemperatureScaling().fit([scan], None)
    with pytest.raises(UnknownNameError, match=", ".join(sorted(CALIBRATORS))):
        get_calibrator("not_a_method")


def test_useless_model_hits_the_bound_without_changing_the_argmax():
    """Labels independent of the logits drive T up; the bound keeps the argmax intact."""
    rng = np.random.default_rng(0)
    z = rng.normal(0, 1, size=(2, 4, 32, 32)).astype(np.float16).astype(np.float32)
    scan = ScanLogits("c", np.zeros((2, 32, 32)), z, rng.integers(0, 4, (2, 32, 32)))
    ts = TemperatureScaling().fit([scan], None)
    assert 10 < ts.temperature_ <= 100
    np.testing.assert_array_equal(ts.predict_proba(scan, None).argmax(1), z.argmax(1))
