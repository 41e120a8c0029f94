"""Brier, stratified Brier and NLL against scikit-learn, torch and hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import brier_score_loss, log_loss

from oodcalib.metrics import (
    brier_score,
    negative_log_likelihood,
    stratified_brier_score,
)
from tests.metrics.helpers import CLASSES, SEEDS, assert_rejects_bad_inputs, random_probs


@pytest.mark.parametrize("seed", SEEDS)
def test_binary_brier_is_twice_sklearn(seed):
    # two classes: (p0 - y0)^2 + (p1 - y1)^2 = 2 (p1 - y1)^2, sklearn's binary Brier
    probs, labels = random_probs(seed, 2, (7, 30), 1)
    binary = brier_score_loss(labels.ravel(), probs[1].ravel())
    assert brier_score(probs, labels) == pytest.approx(2 * binary, abs=1e-12)
    assert brier_score(probs, labels) == pytest.approx(
        brier_score_loss(labels.ravel(), probs.reshape(2, -1).T, scale_by_half=False), abs=1e-12
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("num_classes", CLASSES)
@pytest.mark.parametrize("shape", [(50,), (4, 9, 11)])
def test_brier_and_nll_match_sklearn(seed, num_classes, shape):
    probs, labels = random_probs(seed, num_classes, shape, 1)
    p, y = probs.reshape(num_classes, -1).T, labels.ravel()
    classes = list(range(num_classes))
    assert brier_score(probs, labels) == pytest.approx(
        brier_score_loss(y, p, labels=classes, scale_by_half=False), abs=1e-12
    )
    assert negative_log_likelihood(probs, labels) == pytest.approx(
        log_loss(y, p, labels=classes), abs=1e-12
    )
    # torch's NLL of the log-probabilities, and the one-hot formula, agree
    nll = F.nll_loss(torch.from_numpy(np.log(p)), torch.from_numpy(y)).item()
    assert negative_log_likelihood(torch.from_numpy(probs), labels) == pytest.approx(nll)
    one_hot = np.eye(num_classes)[y]
    assert brier_score(probs, labels) == pytest.approx(((p - one_hot) ** 2).sum(1).mean())
    # chunking does not change the sums
    assert brier_score(probs, labels, chunk_size=7) == pytest.approx(brier_score(probs, labels))


@pytest.mark.parametrize("seed", SEEDS)
def test_foreground_and_masked_versions(seed):
    probs, labels = random_probs(seed, 4, (3, 12, 12), 1)
    fg = labels != 0
    p, y = probs[:, fg].T, labels[fg]
    expected = ((p - np.eye(4)[y]) ** 2).sum(1).mean()
    assert stratified_brier_score(probs, labels) == pytest.approx(expected, abs=1e-12)
    assert brier_score(probs, labels, mask=fg) == stratified_brier_score(probs, labels)
    assert negative_log_likelihood(probs, labels, mask=fg) == pytest.approx(
        -np.log(p[np.arange(y.size), y]).mean(), abs=1e-12
    )
    background = np.zeros_like(labels)
    assert np.isnan(stratified_brier_score(probs, background))
    assert np.isnan(negative_log_likelihood(probs, labels, mask=np.zeros_like(fg)))


def test_hand_examples():
    # 3 classes. Pixel 1 (0.7, 0.2, 0.1) label 0: 0.09 + 0.04 + 0.01 = 0.14.
    # Pixel 2 (0.2, 0.2, 0.6) label 1: 0.04 + 0.64 + 0.36 = 1.04. Pixel 3 one-hot right: 0.
    probs = np.array([[0.7, 0.2, 0.0], [0.2, 0.2, 0.0], [0.1, 0.6, 1.0]])
    labels = np.array([0, 1, 2])
    assert brier_score(probs, labels) == pytest.approx(1.18 / 3, abs=1e-12)
    assert stratified_brier_score(probs, labels) == pytest.approx(1.04 / 2, abs=1e-12)
    assert negative_log_likelihood(probs, labels) == pytest.approx(
        -(np.log(0.7) + np.log(0.2)) / 3, abs=1e-12
    )
    # confidently wrong: Brier 2, NLL clamped at -log(1e-12)
    assert brier_score(probs[:, 2:], np.array([0])) == pytest.approx(2.0)
    assert negative_log_likelihood(probs[:, 2:], np.array([0])) == pytest.approx(-np.log(1e-12))
    # float32 input is scored in float64
    assert brier_score(probs.astype(np.float32), labels) == pytest.approx(1.18 / 3, abs=1e-7)


def test_errors():
    for fn in (brier_score, stratified_brier_score, negative_log_likelihood):
        probs, labels = assert_rejects_bad_inputs(fn)
        with pytest.raises(ValueError, match="labels must lie"):
            fn(probs, labels + 4)
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            fn(probs * 3, labels)
    with pytest.raises(ValueError, match="mask shape"):
        brier_score(probs, labels, mask=np.ones((6, 5), bool))
