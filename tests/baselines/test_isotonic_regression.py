"""IR: sklearn's isotonic fits per class, monotone maps, renormalised, the zero-sum rule.

The interface (get/set_params, NotFittedError, probabilities, pickling) is checked for
every calibrator in ``tests/baselines/test_contract.py``.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression

from oodcalib.baselines import (
    IsotonicRegressionCalibrator,
    ScanLogits,
    TemperatureScaling,
    Uncalibrated,
    get_calibrator,
    softmax,
)
from oodcalib.baselines.common.calibration_pixels import calibration_pixels
from oodcalib.errors import OodcalibError
from tests.baselines.test_temperature_scaling import nll, toy_scans


def top_label_ece(calibrator, scans: list[ScanLogits], n_bins: int = 15) -> float:
    """Top-label ECE over all pixels of ``scans``, right-closed equal-width bins."""
    p = np.concatenate(
        [
            np.moveaxis(calibrator.predict_proba(s, None), 1, -1).reshape(-1, s.logits.shape[1])
            for s in scans
        ]
    )
    y = np.concatenate([s.label.reshape(-1) for s in scans])
    confidence, correct = p.max(1), p.argmax(1) == y
    bins = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    return float(
        sum(abs(confidence[bins == b].sum() - correct[bins == b].sum()) for b in range(n_bins))
        / len(y)
    )


def hand_set(x: list[list[float]], y: list[list[float]]) -> IsotonicRegressionCalibrator:
    """An IR whose class maps are given by their thresholds."""
    ir = IsotonicRegressionCalibrator()
    ir.x_thresholds_ = [np.array(v, float) for v in x]
    ir.y_thresholds_ = [np.array(v, float) for v in y]
    return ir


@pytest.fixture(scope="module")
def fitted() -> tuple[IsotonicRegressionCalibrator, list[ScanLogits]]:
    scans = toy_scans(3, 4.0, 0)
    return IsotonicRegressionCalibrator(max_pixels=1000, random_state=2).fit(scans, None), scans


def test_predictions_are_probabilities(fitted):
    ir, _ = fitted
    for scan in toy_scans(2, 4.0, 50):
        p = ir.predict_proba(scan, None)
        assert p.shape == scan.logits.shape and p.dtype == np.float32
        assert p.min() >= 0
        np.testing.assert_allclose(p.sum(1), 1, atol=1e-6)


def test_maps_are_monotone_non_decreasing_in_0_1(fitted):
    ir, _ = fitted
    assert len(ir.x_thresholds_) == len(ir.y_thresholds_) == 4
    for x, y in zip(ir.x_thresholds_, ir.y_thresholds_, strict=True):
        assert (np.diff(x) > 0).all() and (np.diff(y) >= 0).all()
        assert y.min() >= 0 and y.max() <= 1
    grid = np.linspace(-0.5, 1.5, 4001)  # beyond [0, 1]: clipped to the end values
    q = ir.one_vs_rest(np.tile(grid, (4, 1)), axis=0)
    assert (np.diff(q, axis=1) >= 0).all()
    np.testing.assert_array_equal(q[:, 0], [y[0] for y in ir.y_thresholds_])
    np.testing.assert_array_equal(q[:, -1], [y[-1] for y in ir.y_thresholds_])


def test_one_vs_rest_values_equal_sklearns_isotonic_fits_on_the_ts_pixels(fitted):
    """Oracle: per class, sklearn fitted directly on the same pixels (those TS uses for
    this seed) predicts what IR gives before renormalisation."""
    ir, scans = fitted
    logits, labels = calibration_pixels(scans, 1000, 2)
    assert ir.n_pixels_ == 1000 and ir.fitted_state() == {"n_pixels_": 1000}
    p = softmax(logits, axis=1).astype(np.float64)
    q = ir.one_vs_rest(p)
    for c in range(4):
        oracle = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)
        expected = oracle.fit(p[:, c], labels == c).predict(p[:, c])
        np.testing.assert_allclose(q[:, c], expected, rtol=0, atol=1e-12)
        # at its fitted points, a least-squares isotonic fit is mean-preserving
        assert q[:, c].mean() == pytest.approx((labels == c).mean(), abs=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_undoes_overconfidence_on_held_out_scans(seed):
    scans, held_out = toy_scans(3, 4.0, seed), toy_scans(2, 4.0, seed + 100)
    ir = IsotonicRegressionCalibrator(random_state=seed).fit(scans, None)
    uc = Uncalibrated().fit([], None)
    assert nll(ir, held_out) < 0.7 * nll(uc, held_out)
    assert top_label_ece(ir, held_out) < 0.4 * top_label_ece(uc, held_out)


def test_a_pixel_whose_classes_all_map_to_zero_keeps_its_softmax():
    """Each map is 0 below 0.3: a pixel with all softmax values below 0.3 has no
    calibrated mass, and falls back to its softmax; the others are renormalised."""
    ir = hand_set([[0.3, 1.0]] * 4, [[0.0, 1.0]] * 4)
    logits = np.zeros((1, 4, 1, 2), np.float32)
    logits[0, :, 0, 1] = [3.0, 0.0, 0.0, 0.0]
    scan = ScanLogits("c", np.zeros((1, 1, 2)), logits)
    p, softmax_p = ir.predict_proba(scan, None), softmax(logits)
    assert ir.one_vs_rest(softmax_p)[0, :, 0, 0].sum() == 0
    np.testing.assert_array_equal(p[..., 0], softmax_p[..., 0])  # uniform: 0.25 each
    q = ir.one_vs_rest(softmax_p)[0, :, 0, 1]
    assert q[0] > 0 and (q[1:] == 0).all()
    np.testing.assert_allclose(p[0, :, 0, 1], [1, 0, 0, 0], atol=1e-7)


def test_can_change_the_argmax_unlike_ts():
    """Class 0 is deflated and class 1 inflated: a pixel 0.5 / 0.3 / 0.1 / 0.1 flips."""
    ir = hand_set([[0, 1], [0, 1], [0, 1], [0, 1]], [[0, 0.2], [0, 1], [0, 1], [0, 1]])
    logits = np.log(np.array([0.5, 0.3, 0.1, 0.1], np.float32)).reshape(1, 4, 1, 1)
    scan = ScanLogits("c", np.zeros((1, 1, 1)), logits)
    assert ir.predict_proba(scan, None).argmax(1).item() == 1
    ts = TemperatureScaling()
    ts.temperature_ = 3.0
    assert ts.predict_proba(scan, None).argmax(1).item() == 0


def test_the_seed_matters_only_when_subsampling():
    scans = toy_scans(2, 4.0, 1)  # 1024 pixels
    a, b = (get_calibrator("ir", max_pixels=300, random_state=s).fit(scans, None) for s in (0, 1))
    assert any(
        not np.array_equal(x, y) for x, y in zip(a.x_thresholds_, b.x_thresholds_, strict=True)
    )
    c, d = (
        IsotonicRegressionCalibrator(max_pixels=None, random_state=s).fit(scans, None)
        for s in (0, 1)
    )
    np.testing.assert_array_equal(c.predict_proba(scans[0], None), d.predict_proba(scans[0], None))
    assert not IsotonicRegressionCalibrator.deterministic  # as TS: seeded by default


def test_small_pickle_and_class_count_checked(fitted):
    ir, _ = fitted
    assert len(pickle.dumps(ir)) < 50_000  # thresholds only, not the 1000 pixels' model
    scan = toy_scans(1, 1.0, 0)[0]
    scan.logits = scan.logits[:, :3]
    with pytest.raises(OodcalibError, match="fitted on 4 classes, got 3"):
        ir.predict_proba(scan, None)
