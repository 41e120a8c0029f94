"""Alea.: the mean softmax over test-time passes; nothing fitted, no dependence on the repeat.

The interface (get/set_params, NotFittedError, probabilities, pickling) is checked for
every calibrator in ``tests/baselines/test_contract.py``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from oodcalib.baselines import Aleatoric, get_calibrator
from oodcalib.baselines.common.augmented_passes import AugmentedPasses, susceptibility
from oodcalib.seeding import derive_seed
from tests.baselines.common.test_augmented_passes import Exploding, RecordingPasses, passes_by_hand
from tests.baselines.common.test_calibration_sampler import Scaled, tiny_unet, toy_model_scans


@pytest.fixture(scope="module")
def setup():
    model = Scaled(tiny_unet(), 12.0)
    return model, toy_model_scans(tiny_unet(), 4.0, 2, seed=3)


@pytest.mark.parametrize("num_aug", [1, 4])
@pytest.mark.parametrize("seed", [0, 7])
def test_prediction_is_the_mean_over_passes(setup, num_aug, seed):
    model, scans = setup
    alea = get_calibrator("alea", num_aug=num_aug).fit(scans[:1], model)
    assert alea.n_calibration_scans_ == 1
    scan = replace(scans[1], passes=AugmentedPasses(model, seed))
    p = alea.predict_proba(scan, model)
    np.testing.assert_array_equal(p, susceptibility(scan, model, num_aug)[0])
    scan_seed = derive_seed(seed, "passes", scan.domain, scan.case_id)
    by_hand = passes_by_hand(model, scan.image, num_aug, scan_seed)
    np.testing.assert_allclose(p, by_hand.mean(0), atol=2e-5)


def test_identical_across_random_states_but_not_pass_seeds(setup):
    model, scans = setup
    a, b = (Aleatoric(num_aug=3, random_state=r).fit(scans, model) for r in (0, 9))
    np.testing.assert_array_equal(
        a.predict_proba(scans[0], model), b.predict_proba(scans[0], model)
    )
    reseeded = replace(scans[0], passes=AugmentedPasses(model, seed=1))
    assert not np.allclose(a.predict_proba(scans[0], model), a.predict_proba(reseeded, model))


def test_uses_the_cached_passes_and_follows_set_params(setup):
    _, scans = setup
    scan = scans[0]
    scan = type(scan)(
        scan.case_id, scan.image, scan.logits, passes=RecordingPasses(scan.logits.shape)
    )
    alea = Aleatoric(num_aug=180).fit([], None)
    assert (alea.predict_proba(scan, Exploding()) == 180).all()
    assert alea.set_params(num_aug=15) is alea and alea.num_aug == 15
    assert (alea.predict_proba(scan, Exploding()) == 15).all()
    assert scan.passes.calls == [180, 15]
