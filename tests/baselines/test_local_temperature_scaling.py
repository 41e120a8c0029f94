"""LTS: identity when untrained, argmax-preserving, and it undoes a toy's overconfidence.

The interface (get/set_params, NotFittedError, probabilities, reproducibility, pickling) is
checked for every calibrator in ``tests/baselines/test_contract.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from oodcalib.baselines import (
    LocalTemperatureScaling,
    TemperatureScaling,
    Uncalibrated,
    softmax,
)
from oodcalib.errors import OodcalibError
from tests.baselines.common.test_calibration_sampler import (
    TRUE_GAIN,
    Scaled,
    check_temperature_calibration,
    check_undoes_overconfidence,
    held_out_nll,
    tiny_unet,
    toy_model_scans,
)

OVERCONFIDENCE = 4.0


@pytest.fixture(scope="module")
def toy():
    """``(model, calibration scans, held-out scans)``: logits 4x too confident."""
    base = tiny_unet()
    model = Scaled(base, OVERCONFIDENCE * TRUE_GAIN)
    return (
        model,
        toy_model_scans(base, OVERCONFIDENCE, 3, seed=0),
        toy_model_scans(base, OVERCONFIDENCE, 2, seed=1),
    )


def fit_lts(toy, **kwargs) -> LocalTemperatureScaling:
    # lr 1e-2 instead of the reference 1e-4 so that 40 steps suffice.
    params = dict(iterations=40, batch_size=4, lr=1e-2, width=4) | kwargs
    return LocalTemperatureScaling(**params).fit(toy[1], toy[0])


def test_untrained_lts_and_ts_at_one_equal_uncalibrated(toy):
    model, scans, held = toy
    with pytest.raises(OodcalibError, match=r"calib\.lts\.iterations=0: must be >= 1"):
        fit_lts(toy, iterations=0)  # fitting no step is refused, not scored (issue 28)
    lts = LocalTemperatureScaling(width=4)
    lts.net_ = lts._build(scans[0].logits.shape[1]).eval()  # as fit() starts it: untrained
    ts = TemperatureScaling()
    ts.temperature_ = 1.0
    uc = Uncalibrated().fit([], None)
    for scan in held:
        expected = uc.predict_proba(scan, model)
        assert (lts.temperature_map(scan, model) == 1).all()
        np.testing.assert_array_equal(lts.predict_proba(scan, model), expected)
        np.testing.assert_array_equal(ts.predict_proba(scan, model), expected)


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("crop", [None, 8])
def test_fitted_lts_keeps_the_argmax_and_gives_probabilities(toy, seed, crop):
    model, _, held = toy
    lts = fit_lts(toy, iterations=20, crop=crop, random_state=seed)
    assert len(lts.loss_curve_) == 20
    for t in check_temperature_calibration(lts, held, model, t_min=0.0):
        assert not (t == 1).all()


@pytest.mark.parametrize("augment", [False, True])
@pytest.mark.parametrize("seed", range(2))
def test_fitting_undoes_overconfidence(toy, augment, seed):
    """Held-out NLL falls well below UC's, to near the oracle ``softmax(z / 4)``.

    With ``augment=True`` the labels are warped, not redrawn, and the photometric change
    alters the logits but not the labels, so the fit is slightly less tight (T above 4).
    """
    model, _, held = toy
    lts = fit_lts(toy, augment=augment, random_state=seed)
    check_undoes_overconfidence(lts, held, model, OVERCONFIDENCE)


def test_the_seed_changes_the_fit(toy):
    """(That the same seed gives the same fit is part of the contract.)"""
    model, _, held = toy
    maps = [
        fit_lts(toy, iterations=10, random_state=s).temperature_map(held[0], model) for s in (3, 4)
    ]
    assert not np.array_equal(maps[0], maps[1])


def test_defaults_follow_the_reference():
    """Ding et al.'s learning rate (1e-4, not the base class's 1e-3), whole slices."""
    params = LocalTemperatureScaling().get_params()
    assert {k: params[k] for k in ("lr", "batch_size", "crop", "augment")} == {
        "lr": 1e-4,
        "batch_size": 8,
        "crop": None,
        "augment": True,
    }


def test_fit_needs_labels(toy):
    model, scans, _ = toy
    unlabelled = type(scans[0])(scans[0].case_id, scans[0].image, scans[0].logits)
    with pytest.raises(OodcalibError, match="without labels"):
        LocalTemperatureScaling(iterations=1).fit([unlabelled], model)


def test_calibration_nll_is_the_nll_of_the_predictions(toy):
    """``nll_before_``/``nll_after_`` against a hand NLL of UC / LTS on the calibration set."""
    model, scans, _ = toy
    lts = fit_lts(toy, iterations=5)

    class Identity:
        def predict_proba(self, scan, model):
            return softmax(scan.logits)

    assert lts.nll_before_ == pytest.approx(held_out_nll(Identity(), scans, model), rel=1e-5)
    assert lts.nll_after_ == pytest.approx(held_out_nll(lts, scans, model), rel=1e-5)
    assert lts.fitted_state() == {"nll_before_": lts.nll_before_, "nll_after_": lts.nll_after_}
