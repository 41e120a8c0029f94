"""ECE, SCE and the ROI against independent oracles.

Oracles: torchmetrics (top-label ECE, binary ECE per class), netcal (ECE), scipy
(per-slice maximum filter), explicit python loops over classes and bins, and
hand-computed literals.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.ndimage import maximum_filter
from torchmetrics.functional.classification import (
    binary_calibration_error,
    multiclass_calibration_error,
)

from oodcalib.metrics import (
    expected_calibration_error,
    roi_mask,
    static_calibration_error,
    top_label_bin_stats,
)
from tests.metrics.helpers import (
    CLASSES,
    N_BINS,
    SEEDS,
    assert_rejects_bad_inputs,
    random_probs,
)


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


# --- the scan is the unit ------------------------------------------------------------


def test_merged_scan_ece_is_not_mean_of_slice_eces():
    # the unit is the scan: pooling bins differs from averaging per-slice errors
    probs, labels = random_probs(3, 4, (4, 10, 10), 10)
    slices = [expected_calibration_error(probs[:, z], labels[z]) for z in range(4)]
    scan = expected_calibration_error(probs, labels)
    assert scan == pytest.approx(top_label_bin_stats(probs, labels).ece())
    assert scan != pytest.approx(np.mean(slices), abs=1e-6)


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


# --- errors --------------------------------------------------------------------------


def test_errors():
    probs, labels = assert_rejects_bad_inputs(expected_calibration_error)
    assert_rejects_bad_inputs(static_calibration_error)
    with pytest.raises(ValueError, match="empty ROI"):
        expected_calibration_error(probs, labels, mask=np.zeros((6, 6), bool))
    with pytest.raises(ValueError, match="empty ROI"):
        static_calibration_error(probs, labels, mask=np.zeros((6, 6), bool))
    with pytest.raises(ValueError, match="mask shape"):
        expected_calibration_error(probs, labels, mask=np.ones((6, 5), bool))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        expected_calibration_error(probs * 3, labels)
    with pytest.raises(ValueError, match="labels must lie"):
        static_calibration_error(probs, labels + 4)
    with pytest.raises(ValueError, match="n_bins"):
        expected_calibration_error(probs, labels, n_bins=0)


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
