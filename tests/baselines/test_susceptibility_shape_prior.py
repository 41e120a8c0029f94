"""Proposed: argmax-preserving, undoes overconfidence, and its component switches."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from oodcalib.baselines import (
    NotFittedError,
    ScanLogits,
    SusceptibilityShapePrior,
    get_calibrator,
)
from oodcalib.baselines.common.networks import CalibrationNet
from oodcalib.errors import OodcalibError
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
    return (model, toy_model_scans(base, OVERCONFIDENCE, 3, seed=0),
            toy_model_scans(base, OVERCONFIDENCE, 2, seed=1))


def fit(toy, **kwargs) -> SusceptibilityShapePrior:
    return SusceptibilityShapePrior(**(SMALL | {"iterations": 30} | kwargs)).fit(toy[1], toy[0])


@pytest.fixture(scope="module")
def fitted(toy) -> SusceptibilityShapePrior:
    return fit(toy, iterations=10)


def with_passes(scan: ScanLogits) -> ScanLogits:
    """A copy of ``scan`` whose pass cache records what it is asked for."""
    return ScanLogits(scan.case_id, scan.image, scan.logits, scan.label,
                      passes=RecordingPasses(scan.logits.shape))


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
    proposed = SusceptibilityShapePrior(**SMALL, iterations=3, augment=False,
                                        susceptibility=susceptibility, shape_prior=shape_prior)
    proposed.fit(scans, model if needs_model else Exploding())
    expected = {"image", "logits"} | ({"mean", "spread"} if susceptibility else set()) | (
        {"residual"} if shape_prior else set())
    assert set(proposed.net_.names) == set(proposed.net_.branches) == expected
    assert proposed.copies_needed == (2 if susceptibility else 0)
    assert hasattr(proposed, "shape_prior_") == shape_prior
    assert hasattr(proposed, "shape_loss_curve_") == shape_prior
    scan = with_passes(held[0])
    p = proposed.predict_proba(scan, model if needs_model else Exploding())
    assert scan.passes.calls == ([3] if susceptibility else [])
    np.testing.assert_allclose(p.sum(1), 1, atol=1e-5)
    np.testing.assert_array_equal(p.argmax(1), scan.logits.argmax(1))


def test_shape_prior_is_frozen_after_fit(fitted):
    prior = fitted.shape_prior_
    assert not prior.training
    assert not any(p.requires_grad for p in prior.parameters())


def test_set_params_changes_the_test_time_passes(toy, fitted):
    model, _, held = toy
    scan = with_passes(held[0])
    fitted.predict_proba(scan, model)
    assert fitted.set_params(num_aug=7) is fitted
    try:
        fitted.predict_proba(scan, model)
    finally:
        fitted.set_params(num_aug=SMALL["num_aug"])
    assert scan.passes.calls == [3, 7]
    with pytest.raises(OodcalibError, match="no hyperparameter 'n_aug'") as info:
        fitted.set_params(n_aug=7)
    assert all(name in str(info.value) for name in ("num_aug", "train_copies", "shape_prior"))


def test_fitting_is_reproducible_and_seeded(toy):
    model, _, held = toy
    maps = [fit(toy, iterations=5, random_state=s).temperature_map(held[0], model)
            for s in (2, 2, 3)]
    np.testing.assert_array_equal(maps[0], maps[1])
    assert not np.array_equal(maps[0], maps[2])


def test_pickle_round_trip_predicts_the_same(toy, fitted):
    model, _, held = toy
    buffer = io.BytesIO()
    torch.save(fitted, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    np.testing.assert_array_equal(loaded.predict_proba(held[0], model),
                                  fitted.predict_proba(held[0], model))


def test_sklearn_conventions(toy):
    model, _, held = toy
    proposed = get_calibrator("proposed", width=2)
    assert proposed.get_params()["num_aug"] == 180 and proposed.get_params()["lr"] == 1e-3
    with pytest.raises(NotFittedError):
        proposed.predict_proba(held[0], model)
