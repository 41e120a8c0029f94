"""Tests of the calibration and segmentation metrics against independent oracles.

Oracles: torchmetrics (top-label ECE, binary ECE per class, F1 == Dice), netcal (ECE),
scipy (per-slice maximum filter), exact rational arithmetic (bin edges), explicit
python loops over classes and bins, and hand-computed literals.
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest
import torch
from scipy.ndimage import maximum_filter
from torchmetrics.functional.classification import (
    binary_calibration_error,
    multiclass_calibration_error,
    multiclass_f1_score,
)

from oodcalib.benchmark.metrics import (
    BinStats,
    bin_index,
    classwise_bin_stats,
    dice_per_class,
    dice_score,
    expected_calibration_error,
    roi_mask,
    scan_metrics,
    static_calibration_error,
    top_label_bin_stats,
)

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


def loop_calibration_error(scores, hits, n_bins):
    """Sum_b (n_b / N) |acc_b - conf_b| with explicit right-closed bins (0 in the first)."""
    total = 0.0
    for b in range(n_bins):
        lower, upper = b / n_bins, (b + 1) / n_bins
        in_bin = (scores > lower) & (scores <= upper) | ((b == 0) & (scores == 0))
        if in_bin.any():
            total += in_bin.mean() * abs(hits[in_bin].mean() - scores[in_bin].mean())
    return total


def loop_ece(probs, labels, mask, n_bins):
    p, y = probs[:, mask], labels[mask]
    return loop_calibration_error(p.max(0), p.argmax(0) == y, n_bins)


def loop_sce(probs, labels, mask, n_bins):
    p, y = probs[:, mask], labels[mask]
    return np.mean([loop_calibration_error(p[c], y == c, n_bins) for c in range(len(p))])


# --- top-label ECE -------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_bins", N_BINS)
@pytest.mark.parametrize("num_classes", CLASSES)
def test_ece_matches_torchmetrics(seed, n_bins, num_classes):
    probs, labels = random_probs(seed, num_classes, (1500,), n_bins)
    probs = probs.astype(np.float32)  # torchmetrics works in float32
    expected = multiclass_calibration_error(
        torch.from_numpy(probs.T.copy()),
        torch.from_numpy(labels),
        num_classes=num_classes,
        n_bins=n_bins,
        norm="l1",
    ).item()
    assert expected_calibration_error(probs, labels, n_bins=n_bins) == pytest.approx(
        expected, abs=1e-5
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_bins", N_BINS)
@pytest.mark.parametrize("num_classes", CLASSES)
def test_ece_matches_netcal(seed, n_bins, num_classes):
    netcal_ece = pytest.importorskip("netcal.metrics").ECE
    probs, labels = random_probs(seed, num_classes, (1200,), n_bins)
    assert len(np.unique(labels)) >= 3  # netcal goes binary with <= 2 distinct labels
    expected = netcal_ece(bins=n_bins).measure(probs.T.copy(), labels)
    assert expected_calibration_error(probs, labels, n_bins=n_bins) == pytest.approx(
        expected, abs=1e-9
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_bins", [3, 10])
@pytest.mark.parametrize("shape", [(40,), (9, 11), (3, 8, 10), (2, 2, 6, 7)])
def test_ece_and_sce_match_loop_oracles_with_mask(seed, n_bins, shape):
    probs, labels = random_probs(seed, 4, shape, n_bins)
    mask = np.random.default_rng(seed + 100).random(shape) < 0.7
    assert expected_calibration_error(probs, labels, mask, n_bins) == pytest.approx(
        loop_ece(probs, labels, mask, n_bins), abs=1e-12
    )
    assert static_calibration_error(probs, labels, mask, n_bins) == pytest.approx(
        loop_sce(probs, labels, mask, n_bins), abs=1e-12
    )


def test_ece_hand_example():
    # bins (0.8, 0.9]: 0.85 (wrong) and 0.9 (right); (0.6, 0.7]: 0.65 (right)
    # ECE = 2/3 |1/2 - 0.875| + 1/3 |1 - 0.65| = 0.25 + 0.35 / 3
    probs = np.array([[0.9, 0.85, 0.35], [0.1, 0.15, 0.65]])
    labels = np.array([0, 1, 1])
    assert expected_calibration_error(probs, labels) == pytest.approx(0.25 + 0.35 / 3, abs=1e-12)
    assert expected_calibration_error(probs, labels, n_bins=1) == pytest.approx(
        abs(2 / 3 - 0.8), abs=1e-12
    )


# --- SCE -----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_bins", N_BINS)
@pytest.mark.parametrize("num_classes", [2, *CLASSES])
def test_sce_is_mean_of_torchmetrics_binary_ece_per_class(seed, n_bins, num_classes):
    # torchmetrics' binary ECE bins p_c itself against the 0/1 target (label == c)
    probs, labels = random_probs(seed, num_classes, (1000,), n_bins)
    per_class = [
        binary_calibration_error(
            torch.from_numpy(probs[c].copy()),
            torch.from_numpy((labels == c).astype(np.int64)),
            n_bins=n_bins,
            norm="l1",
        ).item()
        for c in range(num_classes)
    ]
    assert static_calibration_error(probs, labels, n_bins=n_bins) == pytest.approx(
        np.mean(per_class), abs=1e-6
    )


def test_sce_hand_example():
    # 4 pixels, 3 classes, 10 bins.  Class 0 probs 0.6,0.6,0.2,0.1 (labels 0,1,2,2):
    #   (0.5,0.6]: acc 1/2 conf 0.6 -> 2/4*0.1; 0.2 -> 1/4*0.2; 0.1 -> 1/4*0.1; sum 0.125
    # Class 1 probs 0.3,0.3,0.2,0.1 (is 1: 0,1,0,0):
    #   (0.2,0.3]: acc 1/2 conf 0.3 -> 2/4*0.2; 0.2 -> 1/4*0.2; 0.1 -> 1/4*0.1; sum 0.175
    # Class 2 probs 0.1,0.1,0.6,0.8 (is 2: 0,0,1,1):
    #   (0,0.1]: acc 0 conf 0.1 -> 2/4*0.1; 0.6 -> 1/4*0.4; 0.8 -> 1/4*0.2; sum 0.2
    probs = np.array([[0.6, 0.6, 0.2, 0.1], [0.3, 0.3, 0.2, 0.1], [0.1, 0.1, 0.6, 0.8]])
    labels = np.array([0, 1, 2, 2])
    assert static_calibration_error(probs, labels) == pytest.approx(0.5 / 3, abs=1e-12)
    # ECE: confidences 0.6 (right), 0.6 (wrong), 0.6 (right), 0.8 (right)
    assert expected_calibration_error(probs, labels) == pytest.approx(
        3 / 4 * abs(2 / 3 - 0.6) + 1 / 4 * 0.2, abs=1e-12
    )


# --- bins ----------------------------------------------------------------------------


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


# --- merging and chunking ------------------------------------------------------------


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


def test_merged_scan_ece_is_not_mean_of_slice_eces():
    # the unit is the scan: pooling bins differs from averaging per-slice errors
    probs, labels = random_probs(3, 4, (4, 10, 10), 10)
    slices = [expected_calibration_error(probs[:, z], labels[z]) for z in range(4)]
    scan = expected_calibration_error(probs, labels)
    assert scan == pytest.approx(top_label_bin_stats(probs, labels).ece())
    assert scan != pytest.approx(np.mean(slices), abs=1e-6)


def test_merge_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="cannot merge"):
        BinStats.zeros(10) + BinStats.zeros(15)
    with pytest.raises(ValueError, match="class-wise"):
        BinStats.zeros(10).sce()
    with pytest.raises(ValueError, match="top-label"):
        BinStats.zeros(10, 4).ece()


# --- ROI -----------------------------------------------------------------------------


@pytest.mark.parametrize(("row", "col"), [(15, 20), (0, 0), (31, 31), (3, 28)])
def test_roi_single_pixel_is_square_block(row, col):
    labels = np.zeros((32, 32), np.uint8)
    labels[row, col] = 1
    expected = np.zeros((32, 32), bool)
    expected[max(row - 4, 0) : row + 6, max(col - 4, 0) : col + 6] = True  # offsets -4..+5
    assert np.array_equal(roi_mask(labels), expected)
    if (row, col) == (15, 20):
        rows, cols = np.nonzero(roi_mask(labels))
        assert (rows.min(), rows.max(), cols.min(), cols.max()) == (11, 20, 16, 25)


def test_roi_slices_are_independent_and_match_scipy():
    labels = np.zeros((3, 20, 20), np.uint8)
    labels[0, 10, 10] = 2
    mask = roi_mask(torch.from_numpy(labels))
    assert mask.dtype == bool and mask.shape == labels.shape
    assert mask[0].sum() == 100 and not mask[1:].any()
    rng = np.random.default_rng(0)
    labels = (rng.random((2, 3, 24, 24)) < 0.01) * rng.integers(1, 4, (2, 3, 24, 24))
    expected = np.stack(
        [np.stack([maximum_filter(s > 0, size=10) for s in scan]) for scan in labels]
    )
    assert np.array_equal(roi_mask(labels), expected)
    assert np.array_equal(roi_mask(labels, size=3)[0, 0], maximum_filter(labels[0, 0] > 0, 3))
    with pytest.raises(ValueError, match="at least 2"):
        roi_mask(np.zeros(5, np.uint8))


# --- Dice ----------------------------------------------------------------------------


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


# --- errors --------------------------------------------------------------------------


def test_errors():
    probs, labels = random_probs(0, 4, (6, 6), 10)
    with pytest.raises(ValueError, match=r"\(4, 6, 6\).*\(6, 5\)"):
        expected_calibration_error(probs, labels[:, :5])
    with pytest.raises(ValueError, match=r"\(4, 6, 6\).*\(6, 5\)"):
        dice_per_class(probs, labels[:, :5])
    bad = probs.copy()
    bad[2, 3, 4] = np.nan
    for fn in (expected_calibration_error, static_calibration_error, dice_per_class):
        with pytest.raises(ValueError, match="NaN"):
            fn(bad, labels)
    with pytest.raises(ValueError, match="empty ROI"):
        expected_calibration_error(probs, labels, mask=np.zeros((6, 6), bool))
    with pytest.raises(ValueError, match="empty ROI"):
        static_calibration_error(probs, labels, mask=np.zeros((6, 6), bool))
    with pytest.raises(ValueError, match="empty ROI"):
        scan_metrics(probs[:, None], np.zeros((1, 6, 6), np.uint8))
    with pytest.raises(ValueError, match="mask shape"):
        expected_calibration_error(probs, labels, mask=np.ones((6, 5), bool))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        expected_calibration_error(probs * 3, labels)
    with pytest.raises(ValueError, match="labels must lie"):
        static_calibration_error(probs, labels + 4)
    with pytest.raises(ValueError, match="n_bins"):
        expected_calibration_error(probs, labels, n_bins=0)
    with pytest.raises(ValueError, match="integer"):
        dice_per_class(probs[0], labels)
    with pytest.raises(ValueError, match="num_classes"):
        dice_per_class(probs, labels, num_classes=5)
    with pytest.raises(ValueError, match="prediction must lie"):
        dice_per_class(labels + 4, labels)
    with pytest.raises(ValueError, match=r"\(4, Z, H, W\)"):
        scan_metrics(probs, labels)


# --- properties ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("num_classes", CLASSES)
@pytest.mark.parametrize("n_bins", N_BINS)
def test_properties(seed, num_classes, n_bins):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, num_classes, (4, 7, 9))
    one_hot = np.moveaxis(np.eye(num_classes)[truth], -1, 0)
    assert expected_calibration_error(one_hot, truth, n_bins=n_bins) == 0.0
    assert static_calibration_error(one_hot, truth, n_bins=n_bins) == 0.0
    # a confidently wrong one-hot prediction has ECE 1 and SCE 2/K
    wrong = (truth + 1) % num_classes
    assert expected_calibration_error(one_hot, wrong, n_bins=n_bins) == 1.0
    if n_bins > 1:  # 0 and 1 in separate bins: every pixel is off by 1 in two classes
        assert static_calibration_error(one_hot, wrong, n_bins=n_bins) == pytest.approx(
            2 / num_classes
        )
    probs, labels = random_probs(seed, num_classes, (4, 7, 9), n_bins)
    ece = expected_calibration_error(probs, labels, n_bins=n_bins)
    sce = static_calibration_error(probs, labels, n_bins=n_bins)
    assert 0 < ece <= 1 and 0 < sce <= 1
    # pixel order does not matter; torch and numpy agree
    order = rng.permutation(labels.size)
    flat_probs, flat_labels = probs.reshape(num_classes, -1)[:, order], labels.ravel()[order]
    assert expected_calibration_error(flat_probs, flat_labels, n_bins=n_bins) == pytest.approx(ece)
    assert expected_calibration_error(
        torch.from_numpy(probs), torch.from_numpy(labels), n_bins=n_bins
    ) == pytest.approx(ece, abs=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
def test_scan_metrics_composes_the_public_functions(seed):
    rng = np.random.default_rng(seed)
    probs, _ = random_probs(seed, 4, (3, 24, 24), 10)
    labels = np.zeros((3, 24, 24), np.int64)
    labels[:, 8:16, 8:16] = rng.integers(0, 4, (3, 8, 8))
    labels[:, 10, 10] = 2  # every class but maybe RV/LV present
    view = np.moveaxis(np.ascontiguousarray(np.moveaxis(probs, 0, 1)), 1, 0)  # runner layout
    result = scan_metrics(view, torch.from_numpy(labels.astype(np.uint8)))
    mask = roi_mask(labels)
    assert mask.sum() < labels.size
    assert result["ece"] == pytest.approx(expected_calibration_error(probs, labels, mask))
    assert result["sce"] == pytest.approx(static_calibration_error(probs, labels, mask))
    dice = dice_per_class(probs, labels)
    assert [result[k] for k in ("dice_rv", "dice_myo", "dice_lv")] == pytest.approx(dice.tolist())
    assert result["dice"] == pytest.approx(np.nanmean(dice))
    assert result["ece"] != pytest.approx(expected_calibration_error(probs, labels))  # ROI used
    assert all(isinstance(v, float) for v in result.values())
