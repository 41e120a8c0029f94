"""Dice per foreground class and its mean, over a whole scan.

Oracles: torchmetrics (F1 == Dice) and hand-computed literals.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torchmetrics.functional.classification import multiclass_f1_score

from oodcalib.metrics import dice_per_class, dice_score
from tests.metrics.helpers import SEEDS, assert_rejects_bad_inputs, random_probs


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("num_classes", [2, 4, 5])
@pytest.mark.parametrize("shape", [(50,), (3, 9, 10)])
def test_dice_matches_torchmetrics_f1(seed, num_classes, shape):
    probs, labels = random_probs(seed, num_classes, shape, 1)
    pred = probs.argmax(0)
    f1 = multiclass_f1_score(
        torch.from_numpy(pred.ravel()),
        torch.from_numpy(labels.ravel()),
        num_classes=num_classes,
        average=None,
    ).numpy()[1:]
    dice = dice_per_class(probs, labels, num_classes)
    present = np.isin(np.arange(1, num_classes), np.concatenate([pred.ravel(), labels.ravel()]))
    np.testing.assert_allclose(dice[present], f1[present], atol=1e-6)
    assert np.isnan(dice[~present]).all()
    np.testing.assert_array_equal(dice_per_class(pred, labels, num_classes), dice)
    np.testing.assert_array_equal(dice_per_class(np.log(probs), labels, num_classes), dice)
    np.testing.assert_array_equal(dice_per_class(probs, labels, num_classes, chunk_size=3), dice)


def test_dice_hand_cases_and_absent_classes():
    labels = np.array([[0, 1, 1, 1], [2, 2, 0, 0]])
    pred = np.array([[0, 1, 1, 0], [2, 0, 0, 1]])
    # RV: overlap 2, |P| 3, |G| 3 -> 2/3; MYO: 2*1/(1+2); LV absent from both -> NaN
    dice = dice_per_class(pred, labels)
    np.testing.assert_allclose(dice[:2], [2 / 3, 2 / 3])
    assert np.isnan(dice[2])
    assert dice_score(pred, labels) == pytest.approx(2 / 3)
    # LV predicted but absent from the ground truth -> 0, which enters the mean
    pred[1, 3] = 3
    np.testing.assert_allclose(dice_per_class(pred, labels), [0.8, 2 / 3, 0.0])
    assert dice_score(pred, labels) == pytest.approx((0.8 + 2 / 3) / 3)
    # nothing in the foreground anywhere -> NaN without a warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(dice_score(np.zeros(4, int), np.zeros(4, int)))
    assert dice_score(labels, labels) == 1.0


def test_errors():
    probs, labels = assert_rejects_bad_inputs(dice_per_class)
    with pytest.raises(ValueError, match="integer"):
        dice_per_class(probs[0], labels)
    with pytest.raises(ValueError, match="num_classes"):
        dice_per_class(probs, labels, num_classes=5)
    with pytest.raises(ValueError, match="prediction must lie"):
        dice_per_class(labels + 4, labels)
