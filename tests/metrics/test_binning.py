"""Accumulating bin statistics: merging over slices, scans and chunks; input checks.

Oracle: the statistics of the whole equal the sum of those of its parts, whatever the
chunk size (bincount sums are exact for counts; float64 sums agree to 1e-12).
"""

from __future__ import annotations

import numpy as np
import pytest

from oodcalib.metrics import (
    BinStats,
    accumulate,
    classwise_bin_stats,
    roi_mask,
    top_label_bin_stats,
)
from tests.metrics.helpers import SEEDS, random_probs


def _same(a: BinStats, b: BinStats):
    assert np.array_equal(a.counts, b.counts)
    assert np.array_equal(a.acc_sum, b.acc_sum)
    np.testing.assert_allclose(a.conf_sum, b.conf_sum, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("stats_fn", [top_label_bin_stats, classwise_bin_stats])
def test_stats_merge_over_slices_scans_and_chunks(seed, stats_fn):
    probs, labels = random_probs(seed, 4, (5, 12, 13), 10)
    mask = roi_mask(np.where(np.random.default_rng(seed).random(labels.shape) < 0.02, 1, 0))
    whole = stats_fn(probs, labels, mask)
    _same(whole, BinStats.merge(stats_fn(probs[:, z], labels[z], mask[z]) for z in range(5)))
    for chunk_size in [1, 7, 100, 10_000]:
        _same(whole, stats_fn(probs, labels, mask, chunk_size=chunk_size))
    other_probs, other_labels = random_probs(seed + 10, 4, (3, 12, 13), 10)
    both = stats_fn(
        np.concatenate([probs, other_probs], 1),
        np.concatenate([labels, other_labels]),
        np.concatenate([mask, np.ones(other_labels.shape, bool)]),
    )
    _same(both, whole + stats_fn(other_probs, other_labels))
    assert whole.num_pixels == mask.sum()


def test_accumulate_computes_only_what_is_asked():
    probs, labels = random_probs(0, 4, (3, 5, 6), 10)
    top, classwise = accumulate(probs, labels, classwise=False)
    assert classwise is None and top.counts.shape == (10,)
    top, classwise = accumulate(probs, labels, n_bins=5, top_label=False)
    assert top is None and classwise.counts.shape == (4, 5)
    assert classwise.counts.sum() == 4 * labels.size
    assert classwise.acc_sum.sum() == labels.size  # each pixel has exactly one label


def test_accumulate_input_errors():
    probs, labels = random_probs(0, 4, (6, 6), 10)
    with pytest.raises(ValueError, match="chunk_size must be positive"):
        accumulate(probs, labels, chunk_size=0)
    with pytest.raises(ValueError, match="n_bins must be a positive integer"):
        accumulate(probs, labels, n_bins=2.5)
    with pytest.raises(ValueError, match="floating-point"):
        accumulate((probs > 0.5).astype(np.int64), labels)
    with pytest.raises(ValueError, match="labels must be integers"):
        accumulate(probs, labels.astype(np.float64))
