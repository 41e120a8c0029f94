"""Platt: statsmodels' logistic fits per class, a = 1 and b = 0 when calibrated, renormalised.

The interface (get/set_params, NotFittedError, probabilities, pickling) is checked for
every calibrator in ``tests/baselines/test_contract.py``.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.exceptions import ConvergenceWarning

from oodcalib.baselines import PlattScaling, ScanLogits, Uncalibrated, get_calibrator
from oodcalib.baselines.common.calibration_pixels import calibration_pixels
from oodcalib.errors import OodcalibError
from tests.baselines.test_isotonic_regression import top_label_ece
from tests.baselines.test_temperature_scaling import nll, toy_scans


def binary_scans(n_scans: int, seed: int) -> list[ScanLogits]:
    """Calibrated one-vs-rest logits: ``z_1 = -z_0 = t``, ``P(y = 1) = sigmoid(t)``."""
    rng = np.random.default_rng(seed)
    scans = []
    for i in range(n_scans):
        t = rng.normal(0, 2, size=(4, 1, 32, 32))
        label = (rng.random(t.shape) < 1 / (1 + np.exp(-t)))[:, 0].astype(np.uint8)
        logits = np.concatenate([-t, t], axis=1).astype(np.float32)
        scans.append(ScanLogits(f"b{i}", np.zeros((4, 32, 32)), logits, label))
    return scans


def hand_set(coef: list[float], intercept: list[float]) -> PlattScaling:
    platt = PlattScaling()
    platt.coef_, platt.intercept_ = np.array(coef, float), np.array(intercept, float)
    return platt


@pytest.fixture(scope="module")
def fitted() -> tuple[PlattScaling, list[ScanLogits]]:
    scans = toy_scans(3, 4.0, 0)
    return PlattScaling(max_pixels=1000, random_state=2).fit(scans, None), scans


def test_predictions_are_probabilities_and_the_renormalised_sigmoids(fitted):
    platt, _ = fitted
    assert platt.coef_.shape == platt.intercept_.shape == (4,) and platt.converged_
    for scan in toy_scans(2, 4.0, 50):
        p = platt.predict_proba(scan, None)
        assert p.shape == scan.logits.shape and p.dtype == np.float32
        assert p.min() >= 0
        np.testing.assert_allclose(p.sum(1), 1, atol=1e-6)
        s = platt.one_vs_rest(scan.logits)
        np.testing.assert_allclose(p, s / s.sum(1, keepdims=True), atol=1e-6)


def test_coefficients_equal_statsmodels_logit_on_the_ts_pixels(fitted):
    """Oracle: an unpenalised logistic regression by statsmodels (Newton) on the same
    pixels (those TS uses for this seed), class by class."""
    platt, scans = fitted
    logits, labels = calibration_pixels(scans, 1000, 2)
    assert platt.fitted_state() == {"converged_": True, "n_pixels_": 1000}
    for c in range(4):
        x = sm.add_constant(logits[:, c].astype(np.float64))
        b, a = sm.Logit((labels == c).astype(float), x).fit(disp=0, tol=1e-12).params
        assert platt.coef_[c] == pytest.approx(a, rel=1e-3, abs=1e-4)
        assert platt.intercept_[c] == pytest.approx(b, rel=1e-3, abs=1e-4)


def test_binary_calibrated_logits_give_slope_one_and_intercept_zero():
    scans = binary_scans(4, 0)  # 16384 pixels
    platt = PlattScaling().fit(scans, None)
    np.testing.assert_allclose(platt.coef_, 1, atol=0.06)
    np.testing.assert_allclose(platt.intercept_, 0, atol=0.06)
    t = scans[0].logits[:, 1:]
    truth = 1 / (1 + np.exp(-t))
    np.testing.assert_allclose(platt.predict_proba(scans[0], None)[:, 1:], truth, atol=0.03)


@pytest.mark.parametrize("seed", range(3))
def test_undoes_overconfidence_on_held_out_scans(seed):
    scans, held_out = toy_scans(3, 4.0, seed), toy_scans(2, 4.0, seed + 100)
    platt = PlattScaling(random_state=seed).fit(scans, None)
    uc = Uncalibrated().fit([], None)
    assert nll(platt, held_out) < 0.7 * nll(uc, held_out)
    assert top_label_ece(platt, held_out) < 0.8 * top_label_ece(uc, held_out)


def test_a_class_absent_from_calibration_gets_probability_zero():
    scans = toy_scans(2, 4.0, 3)
    for scan in scans:
        scan.label = np.where(scan.label == 3, 2, scan.label)
    platt = PlattScaling().fit(scans, None)
    assert platt.coef_[3] == 0 and platt.intercept_[3] == -np.inf
    p = platt.predict_proba(scans[0], None)
    assert np.isfinite(p).all() and (p[:, 3] == 0).all()
    np.testing.assert_allclose(p.sum(1), 1, atol=1e-6)


def test_sigmoids_underflowing_in_every_class_still_give_probabilities():
    platt = hand_set([1.0, 1.0, 2.0, 2.0], [0.0, 0.0, 0.0, 0.0])
    logits = np.full((1, 4, 1, 1), -1000.0, np.float32)
    scan = ScanLogits("c", np.zeros((1, 1, 1)), logits)
    assert (platt.one_vs_rest(logits) == 0).all()
    # s = e^-1000 (classes 0, 1) and e^-2000 (2, 3): renormalised 1/2, 1/2, 0, 0
    np.testing.assert_allclose(platt.predict_proba(scan, None).ravel(), [0.5, 0.5, 0, 0])


def test_can_change_the_argmax():
    platt = hand_set([0.1, 1.0, 1.0, 1.0], [-3.0, 0.0, 0.0, 0.0])
    logits = np.array([3.0, 1.0, 0.0, 0.0], np.float32).reshape(1, 4, 1, 1)
    scan = ScanLogits("c", np.zeros((1, 1, 1)), logits)
    assert logits.argmax(1).item() == 0 and platt.predict_proba(scan, None).argmax(1).item() == 1


def test_the_seed_matters_only_when_subsampling():
    scans = toy_scans(2, 4.0, 1)  # 1024 pixels
    a, b = (
        get_calibrator("platt", max_pixels=300, random_state=s).fit(scans, None) for s in (0, 1)
    )
    assert not np.array_equal(a.coef_, b.coef_)
    c, d = (PlattScaling(max_pixels=None, random_state=s).fit(scans, None) for s in (0, 1))
    np.testing.assert_array_equal(c.coef_, d.coef_)
    assert not PlattScaling.deterministic  # as TS: seeded by default


def test_non_convergence_warns_and_is_recorded():
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        platt = PlattScaling(max_iter=1).fit(toy_scans(1, 4.0, 0), None)
    assert platt.fitted_state()["converged_"] is False


def test_small_pickle_and_class_count_checked(fitted):
    platt, _ = fitted
    assert len(pickle.dumps(platt)) < 2_000
    scan = toy_scans(1, 1.0, 0)[0]
    scan.logits = scan.logits[:, :3]
    with pytest.raises(OodcalibError, match="fitted on 4 classes, got 3"):
        platt.predict_proba(scan, None)
