"""Bin indices (right-closed, exact at the edges) and mergeable bin statistics.

Oracles: numpy ``digitize`` (the reference evaluation code), exact rational arithmetic,
and hand-computed literals.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

from oodcalib.metrics import (
    BinStats,
    as_numpy,
    bin_index,
    expected_calibration_error,
    static_calibration_error,
)


def test_bin_index_extremes_and_reference_digitize():
    assert bin_index(np.array([0.0, 1e-12, 0.1, 1.0, 1.0 + 1e-9, -1e-9]), 10).tolist() == [
        0,
        0,
        0,
        9,
        9,
        0,
    ]
    rng = np.random.default_rng(0)
    values = rng.random(10_000).astype(np.float32)
    reference = np.digitize(values, np.linspace(0, 1, 11), right=True) - 1
    assert np.array_equal(bin_index(values, 10), reference)


@pytest.mark.parametrize("n_bins", [3, 7, 10, 15])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bin_index_is_exact_at_edges(n_bins, dtype):
    # each edge k / n as rounded to dtype and its two neighbours, in exact rationals
    edges = [dtype(k / n_bins) for k in range(1, n_bins)]
    values = []
    for e in edges:
        values += [np.nextafter(e, dtype(0)), e, np.nextafter(e, dtype(1))]
    values = np.array(values, dtype)
    expected = []
    for v in values:
        exact = Fraction(float(v))
        if dtype == np.float64 and float(v) in edges:  # the float nearest k/n means k/n
            exact = Fraction(round(float(v) * n_bins), n_bins)
        expected.append(max(b for b in range(n_bins) if exact > Fraction(b, n_bins)))
    assert bin_index(values, n_bins).tolist() == expected


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_right_closed_bins_change_the_answer(dtype):
    # Confidence 0.3 (right) and 0.35 (wrong), 4 classes: (lower, upper] puts them in
    # two bins -> (0.7 + 0.35) / 2 = 0.525; [lower, upper) would pool them in [0.3, 0.4)
    # -> |1/2 - 0.325| = 0.175.
    probs = np.array([[0.3, 0.35], [0.25, 0.25], [0.25, 0.2], [0.2, 0.2]], dtype)
    ece = expected_calibration_error(probs, np.array([0, 1]))
    if dtype == np.float64:
        assert ece == pytest.approx(0.525, abs=1e-12)
    else:  # np.float32(0.3) is above 0.3, so it belongs to (0.3, 0.4], as with digitize
        assert float(np.float32(0.3)) > 0.3
        assert ece == pytest.approx(0.175, abs=1e-6)
    # Confidence 0.7 (wrong) and 0.65 (right): (lower, upper] pools them in (0.6, 0.7]
    # -> 0.175; [lower, upper) would split them -> 0.525. float32(0.7) is below 0.7.
    probs = np.array([[0.3, 0.65], [0.7, 0.35]], dtype)
    assert expected_calibration_error(probs, np.array([0, 0])) == pytest.approx(0.175, abs=1e-6)
    # The same two edges for the class-wise binning (SCE), 2 classes, float64 only
    if dtype == np.float64:
        # class 0: 0.3 (is 0) and 0.35 (is not) in two bins -> (0.7 + 0.35) / 2
        # class 1: 0.7 (is not) and 0.65 (is 1) pooled in (0.6, 0.7] -> |1/2 - 0.675|
        probs = np.array([[0.3, 0.35], [0.7, 0.65]])
        expected = ((0.7 + 0.35) / 2 + 0.175) / 2
        assert static_calibration_error(probs, np.array([0, 1])) == pytest.approx(expected)


def test_merge_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="cannot merge"):
        BinStats.zeros(10) + BinStats.zeros(15)
    with pytest.raises(ValueError, match="class-wise"):
        BinStats.zeros(10).sce()
    with pytest.raises(ValueError, match="top-label"):
        BinStats.zeros(10, 4).ece()


def test_hand_statistics_give_ece_sce_and_bin_means():
    # top-label, 3 bins: N = 5 pixels; |acc - conf| sums 0.5, 0, 0.3 -> ECE 0.8 / 5
    top = BinStats(np.array([2, 0, 3]), np.array([0.5, 0.0, 2.7]), np.array([1, 0, 3]))
    assert top.num_pixels == 5
    assert top.ece() == pytest.approx(0.16, abs=1e-12)
    conf, acc = top.bin_means()
    np.testing.assert_allclose(conf[[0, 2]], [0.25, 0.9])
    np.testing.assert_allclose(acc[[0, 2]], [0.5, 1.0])
    assert np.isnan(conf[1]) and np.isnan(acc[1])
    # class-wise, 2 classes x 2 bins, N = 4: row 0 |0 - 0.2| + |3 - 2.4| = 0.8,
    # row 1 |0 - 0.9| + |0 - 0.7| = 1.6 -> SCE (0.8 / 4 + 1.6 / 4) / 2 = 0.3
    classwise = BinStats(
        np.array([[1, 3], [3, 1]]), np.array([[0.2, 2.4], [0.9, 0.7]]), np.array([[0, 3], [0, 0]])
    )
    assert classwise.num_pixels == 4
    assert classwise.sce() == pytest.approx(0.3, abs=1e-12)
    merged = BinStats.merge([top, top, top])
    assert merged.num_pixels == 15 and merged.ece() == pytest.approx(top.ece())


@pytest.mark.parametrize("num_classes", [None, 4])
def test_empty_statistics_have_no_calibration_error(num_classes):
    empty = BinStats.zeros(10, num_classes)
    assert empty.num_pixels == 0
    with pytest.raises(ValueError, match="empty ROI"):
        empty.calibration_error()


def test_as_numpy_of_tensors_and_arrays():
    x = torch.tensor([0.25, 0.5], requires_grad=True)
    np.testing.assert_array_equal(as_numpy(x), [0.25, 0.5])
    half = as_numpy(torch.tensor([0.25, 0.5], dtype=torch.bfloat16))
    assert half.dtype == np.float32 and half.tolist() == [0.25, 0.5]
    assert as_numpy([1, 2]).tolist() == [1, 2]


@pytest.mark.parametrize("classes", [1, 2, 4, 7])
@pytest.mark.parametrize("seed", range(4))
def test_top_class_equals_numpy_max_and_argmax_ties_included(classes, seed):
    """Oracle: numpy's max and argmax over the class axis (first maximum wins), on values
    drawn from a few levels so that ties are frequent."""
    from oodcalib.metrics.bin_stats import top_class

    p = np.random.default_rng(seed).integers(0, 3, (classes, 5, 17)).astype(np.float32)
    conf, index = top_class(p)
    np.testing.assert_array_equal(index, p.argmax(axis=0))
    np.testing.assert_array_equal(conf, p.max(axis=0))


@pytest.mark.parametrize("n_bins", [1, 3, 7, 10, 15, 20, 100])
def test_bin_index_equals_numpy_digitize_next_to_every_edge(n_bins):
    """The fast path (ceil, then one comparison) bins exactly as ``digitize(right=True)``,
    also for the float64 and float32 neighbours of every edge and values a rounding
    error outside [0, 1]."""
    edges = np.arange(n_bins + 1) / n_bins
    near = [np.nextafter(e, d) for e in edges for d in (-1, 2)] + list(edges)
    near32 = [float(np.nextafter(np.float32(e), np.float32(d))) for e in edges for d in (-1, 2)]
    rng = np.random.default_rng(n_bins)
    values = np.concatenate(
        [
            near,
            near32,
            [-1e-9, 0.0, 1.0, 1 + 1e-9],
            rng.random(10_000),
            rng.random(1000).astype(np.float32),
        ]
    )
    expected = np.clip(np.digitize(values, edges, right=True) - 1, 0, n_bins - 1)
    np.testing.assert_array_equal(bin_index(values, n_bins), expected)
