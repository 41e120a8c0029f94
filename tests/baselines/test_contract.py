"""The calibrator contract, checked on every entry of ``CALIBRATORS``.

In the spirit of scikit-learn's ``check_estimator``: whatever is registered (a new entrant
is covered as soon as it is added to the registry) must store its hyperparameters as
given, round-trip ``get_params``, refuse unknown hyperparameters, keep learned state in
``_`` attributes, return finite probabilities, be reproducible under a fixed
``random_state``, survive pickling, and read augmented passes iff it says so. The
method-specific properties (argmax preserved, undoes overconfidence, ...) stay in each
method's own test file.

Settings are the smallest that exercise every code path (two training steps, two passes);
only the hyperparameters a calibrator actually has are set.
"""

from __future__ import annotations

import inspect
import io
import json
import pickle
from dataclasses import replace

import numpy as np
import pytest
import torch

from oodcalib.baselines import CALIBRATORS, Calibrator, NotFittedError, ScanLogits
from oodcalib.errors import OodcalibError
from tests.baselines.common.test_augmented_passes import RecordingPasses
from tests.baselines.common.test_calibration_sampler import Scaled, tiny_unet, toy_model_scans

NAMES = list(CALIBRATORS)

#: Fast values of the hyperparameters calibrators commonly have; each calibrator gets
#: only those it accepts.
FAST = {
    "iterations": 2,
    "width": 4,
    "crop": None,
    "num_aug": 2,
    "train_copies": 2,
    "shape_width": 2,
    "batch_size": 2,
    "max_iter": 5,
}

#: Per-method values that replace ``FAST``: Platt's lbfgs takes 6-16 steps per class on the
#: toy (cheap: one slope and one intercept per class); fewer would warn.
FAST_OVERRIDES = {"platt": {"max_iter": 100}}

#: Calibrators with nothing to learn: ``predict_proba`` may run before ``fit``, and must
#: then give exactly what it gives after ``fit``. Every other calibrator must raise
#: ``NotFittedError``.
STATELESS = {"uc"}


def fast(name: str, **extra) -> Calibrator:
    """``CALIBRATORS[name]`` with the fast settings it accepts (plus ``extra``)."""
    cls = CALIBRATORS[name]
    kwargs = {k: v for k, v in FAST.items() if k in cls.hyperparameter_names()}
    kwargs |= FAST_OVERRIDES.get(name, {})
    return cls(**kwargs, **extra)


@pytest.fixture(scope="module")
def toy():
    """``(model, calibration scans, test scan)``; the test scan has no label and another
    number of slices and size than the calibration scans."""
    base = tiny_unet()
    model = Scaled(base, 12.0)
    scans = toy_model_scans(base, 4.0, 2, seed=0, slices=2)
    test = toy_model_scans(base, 4.0, 1, seed=1, slices=3, size=24)[0]
    return model, scans, replace(test, label=None, domain="motion")


@pytest.fixture(scope="module")
def fitted(toy):
    """``fitted(name)``: one fast calibrator fitted on the toy, shared by the module."""
    model, scans, _ = toy
    cache: dict[str, Calibrator] = {}

    def get(name: str) -> Calibrator:
        if name not in cache:
            cache[name] = fast(name).fit(scans, model)
        return cache[name]

    return get


def predict(calibrator: Calibrator, toy) -> np.ndarray:
    model, _, test = toy
    return calibrator.predict_proba(test, model)


def test_the_registry_is_not_empty():
    assert {"uc", "ts"} <= set(NAMES)  # the parametrised tests below do run


# --- class attributes and hyperparameters --------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_class_attributes(name):
    cls = CALIBRATORS[name]
    assert issubclass(cls, Calibrator)
    assert cls.name == name
    assert isinstance(cls.display_name, str) and cls.display_name.strip()
    names = cls.hyperparameter_names()
    assert len(set(names)) == len(names) and "random_state" not in names
    assert not any(n.endswith("_") for n in names)  # would be taken for learned state
    assert cls.test_time_passes == ("num_aug" in names)


@pytest.mark.parametrize("name", NAMES)
def test_constructor_stores_each_hyperparameter_unchanged(name):
    """Like sklearn: ``__init__`` only stores its arguments, under their own names."""
    cls = CALIBRATORS[name]
    given = {n: object() for n in [*cls.hyperparameter_names(), "random_state"]}
    calibrator = cls(**given)
    for n, value in given.items():
        assert getattr(calibrator, n) is value, f"{name}.{n} is not stored as given"
    assert calibrator.get_params() == given


@pytest.mark.parametrize("name", NAMES)
def test_defaults_are_the_signature_defaults_and_round_trip(name):
    cls = CALIBRATORS[name]
    parameters = inspect.signature(cls.__init__).parameters
    defaults = {n: parameters[n].default for n in [*cls.hyperparameter_names(), "random_state"]}
    assert inspect.Parameter.empty not in defaults.values()  # constructible without args
    assert cls().get_params() == defaults
    calibrator = fast(name, random_state=7)
    params = calibrator.get_params()
    assert params["random_state"] == 7
    assert cls(**params).get_params() == params


@pytest.mark.parametrize("name", NAMES)
def test_set_params_sets_known_and_rejects_unknown_names(name):
    calibrator = fast(name)
    assert calibrator.set_params(random_state=11) is calibrator
    assert calibrator.random_state == 11 and calibrator.get_params()["random_state"] == 11
    with pytest.raises(OodcalibError, match="no hyperparameter 'not_a_hyperparameter'") as info:
        calibrator.set_params(not_a_hyperparameter=3)
    message = str(info.value).split("valid:")[1]
    for n in [*calibrator.hyperparameter_names(), "random_state"]:
        assert n in message
    assert not hasattr(calibrator, "not_a_hyperparameter")


# --- fit and predict -----------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_predict_before_fit(name, toy):
    calibrator = fast(name)
    if name in STATELESS:
        before = predict(calibrator, toy)
        model, scans, _ = toy
        np.testing.assert_array_equal(before, predict(calibrator.fit(scans, model), toy))
    else:
        cls_name = type(calibrator).__name__
        with pytest.raises(NotFittedError, match=f"{cls_name} is not fitted"):
            predict(calibrator, toy)


@pytest.mark.parametrize("name", NAMES)
def test_fit_returns_self_and_adds_only_underscore_attributes(name, toy):
    model, scans, _ = toy
    calibrator = fast(name)
    before = dict(vars(calibrator))
    assert calibrator.fit(scans, model) is calibrator
    added = set(vars(calibrator)) - set(before)
    assert added, "fit must leave some learned state"
    assert all(a.endswith("_") for a in added), f"learned attributes without '_': {added}"
    assert calibrator.get_params() == before  # hyperparameters untouched by fit
    state = calibrator.fitted_state()
    assert set(state) <= added
    json.dumps(state)


@pytest.mark.parametrize("name", NAMES)
def test_fit_and_predict_leave_inputs_and_state_alone(name, toy):
    """Inputs are not modified, predicting does not change the calibrator, and the
    caller's global random number generators are untouched."""
    model, scans, test = toy
    copies = [(s.image.copy(), s.logits.copy(), s.label.copy()) for s in scans]
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    calibrator = fast(name).fit(scans, model)
    keys, state = set(vars(calibrator)), calibrator.fitted_state()
    test_logits = test.logits.copy()
    predict(calibrator, toy)
    assert set(vars(calibrator)) == keys and calibrator.fitted_state() == state
    np.testing.assert_array_equal(test.logits, test_logits)
    for scan, (image, logits, label) in zip(scans, copies, strict=True):
        np.testing.assert_array_equal(scan.image, image)
        np.testing.assert_array_equal(scan.logits, logits)
        np.testing.assert_array_equal(scan.label, label)
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_equal(np.random.get_state(), numpy_state)


@pytest.mark.parametrize("name", NAMES)
def test_predictions_are_finite_probabilities_of_the_logits_shape(name, toy, fitted):
    _, _, test = toy
    p = predict(fitted(name), toy)
    assert isinstance(p, np.ndarray) and np.issubdtype(p.dtype, np.floating)
    assert p.shape == test.logits.shape
    assert np.isfinite(p).all()
    assert p.min() >= 0 and p.max() <= 1
    np.testing.assert_allclose(p.sum(1), 1, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_same_random_state_same_predictions_and_refit_is_idempotent(name, toy, fitted):
    model, scans, _ = toy
    first = predict(fitted(name), toy)
    again = fast(name)
    np.testing.assert_array_equal(predict(again.fit(scans, model), toy), first)
    np.testing.assert_array_equal(predict(again.fit(scans, model), toy), first)


def torch_round_trip(calibrator: Calibrator) -> Calibrator:
    buffer = io.BytesIO()
    torch.save(calibrator, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=False)


@pytest.mark.parametrize(
    "round_trip",
    [lambda c: pickle.loads(pickle.dumps(c)), torch_round_trip],
    ids=["pickle", "torch"],
)
@pytest.mark.parametrize("name", NAMES)
def test_serialisation_round_trip_predicts_identically(name, round_trip, toy, fitted):
    calibrator = fitted(name)
    loaded = round_trip(calibrator)
    assert type(loaded) is type(calibrator)
    assert loaded.get_params() == calibrator.get_params()
    assert loaded.fitted_state() == calibrator.fitted_state()
    np.testing.assert_array_equal(predict(loaded, toy), predict(calibrator, toy))


# --- augmented passes ----------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_reads_augmented_passes_iff_test_time_passes(name, toy, fitted):
    """A method that declares ``test_time_passes`` asks the scan's pass source for exactly
    ``num_aug`` passes (and follows ``set_params``); any other never asks."""
    model, _, test = toy
    calibrator = fitted(name)
    scan = ScanLogits(
        test.case_id,
        test.image,
        test.logits,
        domain=test.domain,
        passes=RecordingPasses(test.logits.shape),
    )
    calibrator.predict_proba(scan, model)
    if not calibrator.test_time_passes:
        assert scan.passes.calls == []
        return
    assert scan.passes.calls and set(scan.passes.calls) == {calibrator.num_aug}
    scan.passes.calls.clear()
    calibrator.set_params(num_aug=5)
    try:
        calibrator.predict_proba(scan, model)
    finally:
        calibrator.set_params(num_aug=FAST["num_aug"])
    assert scan.passes.calls and set(scan.passes.calls) == {5}


@pytest.mark.parametrize("name", [n for n in NAMES if CALIBRATORS[n].deterministic])
def test_deterministic_calibrators_ignore_the_seed(name, toy):
    """The benchmark copies repeat 0 of a ``deterministic`` calibrator to its other
    repeats; that is only right if fits with other seeds predict exactly the same."""
    model, scans, _ = toy
    a = fast(name, random_state=0).fit(scans, model)
    b = fast(name, random_state=123).fit(scans, model)
    np.testing.assert_array_equal(predict(a, toy), predict(b, toy))


def test_the_seeded_calibrators_are_not_marked_deterministic():
    assert {n for n in NAMES if CALIBRATORS[n].deterministic} == {"uc", "alea"}
