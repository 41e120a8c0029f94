"""Shared inputs of the metric tests: random probabilities away from the bin edges."""

from __future__ import annotations

import numpy as np
import pytest

SEEDS = [0, 1, 2]
N_BINS = [1, 5, 10, 15]
CLASSES = [3, 4, 6]


def random_probs(seed: int, num_classes: int, shape: tuple[int, ...], n_bins: int):
    """Softmax probabilities (C, *shape) and labels, none within 1e-6 of an inner edge.

    The oracles bin [lower, upper) where the reference bins (lower, upper]: they agree
    only away from the edges, so draws with a value near an edge are redrawn.
    """
    rng = np.random.default_rng(seed)
    inner_edges = np.arange(1, n_bins) / n_bins
    while True:
        logits = rng.normal(size=(num_classes, *shape)) * rng.uniform(0.5, 4)
        probs = np.exp(logits - logits.max(0))
        probs /= probs.sum(0)
        if n_bins == 1 or np.abs(probs[..., None] - inner_edges).min() > 1e-6:
            break
    # labels agree with the argmax ~60% of the time, so accuracy is neither 0 nor 1
    agree = rng.random(shape) < 0.6
    labels = np.where(agree, probs.argmax(0), rng.integers(0, num_classes, shape))
    return probs, labels


def assert_rejects_bad_inputs(fn) -> tuple[np.ndarray, np.ndarray]:
    """``fn(probs, labels)`` names both shapes when they differ and refuses NaN
    probabilities; returns the valid ``(probs, labels)`` it was tried with."""
    probs, labels = random_probs(0, 4, (6, 6), 10)
    with pytest.raises(ValueError, match=r"\(4, 6, 6\).*\(6, 5\)"):
        fn(probs, labels[:, :5])
    bad = probs.copy()
    bad[2, 3, 4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fn(bad, labels)
    return probs, labels
