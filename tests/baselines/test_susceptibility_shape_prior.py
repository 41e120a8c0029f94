"""Proposed: argmax-preserving, undoes overconfidence, and its component switches.

The interface (get/set_params, NotFittedError, probabilities, reproducibility, pickling,
reading ``num_aug`` passes) is checked for every calibrator in
``tests/baselines/test_contract.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from oodcalib.baselines import ScanLogits, SusceptibilityShapePrior
from oodcalib.baselines.common.networks import CalibrationNet
from tests.baselines.common.test_augmented_passes import Exploding, RecordingPasses
from tests.baselines.common.test_calibration_sampler import (
    TRUE_GAIN,
    Scaled,
    check_temperature_calibration,
    check_undoes_overconfidence,
    tiny_unet,
    toy_model_scans,
)

OVERCONFIDENCE = 4.0
SMALL = dict(num_aug=3, train_copies=2, shape_width=2, width=2, batch_size=4, lr=1e-2)


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


def fit(toy, **kwargs) -> SusceptibilityShapePrior:
    return SusceptibilityShapePrior(**(SMALL | {"iterations": 30} | kwargs)).fit(toy[1], toy[0])


@pytest.fixture(scope="module")
def fitted(toy) -> SusceptibilityShapePrior:
    return fit(toy, iterations=10)


def with_passes(scan: ScanLogits) -> ScanLogits:
    """A copy of ``scan`` whose pass cache records what it is asked for."""
    return ScanLogits(
        scan.case_id, scan.image, scan.logits, scan.label, passes=RecordingPasses(scan.logits.shape)
    )


def test_fitted_keeps_the_argmax_and_gives_probabilities(toy, fitted):
    model, _, held = toy
    for t in check_temperature_calibration(fitted, held, model, t_min=CalibrationNet.offset):
        assert not np.allclose(t, 1.1)


@pytest.mark.parametrize("augment", [False, True])
@pytest.mark.parametrize("seed", range(2))
def test_fitting_undoes_overconfidence(toy, augment, seed):
    """Held-out NLL falls well below UC's, to near the oracle ``softmax(z / 4)``.

    With ``augment=True`` the labels are warped, not redrawn, and the photometric change
    alters the logits but not the labels, so the fit is slightly less tight (T above 4).
    """
    model, _, held = toy
    proposed = fit(toy, augment=augment, random_state=seed)
    check_undoes_overconfidence(proposed, held, model, OVERCONFIDENCE)
    assert len(proposed.loss_curve_) == len(proposed.shape_loss_curve_) == 30


@pytest.mark.parametrize("susceptibility", [True, False])
@pytest.mark.parametrize("shape_prior", [True, False])
def test_component_switches(toy, susceptibility, shape_prior):
    """Without susceptibility the model is never run: no copies, no test-time passes."""
    model, scans, held = toy
    needs_model = susceptibility
    proposed = SusceptibilityShapePrior(
        **SMALL, iterations=3, augment=False, susceptibility=susceptibility, shape_prior=shape_prior
    )
    proposed.fit(scans, model if needs_model else Exploding())
    expected = (
        {"image", "logits"}
        | ({"mean", "spread"} if susceptibility else set())
        | ({"residual"} if shape_prior else set())
    )
    assert set(proposed.net_.names) == set(proposed.net_.branches) == expected
    assert proposed.copies_needed == (2 if susceptibility else 0)
    assert hasattr(proposed, "shape_prior_") == shape_prior
    assert hasattr(proposed, "shape_loss_curve_") == shape_prior
    scan = with_passes(held[0])
    p = proposed.predict_proba(scan, model if needs_model else Exploding())
    assert scan.passes.calls == ([3] if susceptibility else [])
    np.testing.assert_array_equal(p.argmax(1), scan.logits.argmax(1))


def test_shape_prior_is_frozen_after_fit(fitted):
    prior = fitted.shape_prior_
    assert not prior.training
    assert not any(p.requires_grad for p in prior.parameters())


def test_the_seed_changes_the_fit(toy):
    """(That the same seed gives the same fit is part of the contract.)"""
    model, _, held = toy
    maps = [fit(toy, iterations=5, random_state=s).temperature_map(held[0], model) for s in (2, 3)]
    assert not np.array_equal(maps[0], maps[1])


def test_defaults_are_the_papers():
    params = SusceptibilityShapePrior().get_params()
    paper = {
        "num_aug": 180,
        "train_copies": 6,
        "shape_width": 8,
        "shape_dropout": 0.5,
        "width": 16,
        "lr": 1e-3,
        "susceptibility": True,
        "shape_prior": True,
    }
    assert {k: params[k] for k in paper} == paper


def test_memo_of_the_last_scan_changes_no_prediction(toy, fitted):
    """Branch features kept from a scan's prediction under one ``N_A`` give exactly what a
    calibrator without the memo predicts under another."""
    import copy

    model, _, held = toy
    scan = held[0]
    fitted.set_params(num_aug=2).predict_proba(scan, model)
    assert fitted.features_memo_[0] is scan
    memo_probs = fitted.set_params(num_aug=3).predict_proba(scan, model)
    fresh = copy.deepcopy(fitted)  # copies drop the memo, as pickles do
    assert not hasattr(fresh, "features_memo_")
    np.testing.assert_array_equal(fresh.predict_proba(scan, model), memo_probs)
    other = fitted.predict_proba(held[1], model)  # a new scan replaces the memo
    assert fitted.features_memo_[0] is held[1]
    np.testing.assert_array_equal(fresh.predict_proba(held[1], model), other)


def test_refitting_drops_the_memo(toy):
    """Features kept from the previous fit's net never reach the new one (the fit's own
    NLL check predicts the first calibration scan first)."""
    model, scans, _ = toy
    calibrator = fit(toy, iterations=3)
    calibrator.predict_proba(scans[0], model)
    refit = calibrator.set_params(iterations=6).fit(scans, model)
    fresh = fit(toy, iterations=6)
    assert refit.nll_after_ == fresh.nll_after_
    np.testing.assert_array_equal(
        refit.predict_proba(scans[-1], model), fresh.predict_proba(scans[-1], model)
    )
