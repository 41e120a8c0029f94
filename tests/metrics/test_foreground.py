"""Foreground ECE and CECE (NACL paper) against torchmetrics, netcal and hand values.

Oracles see the foreground pixels (``label != 0``) only: torchmetrics'
``multiclass_calibration_error`` (top label) and ``binary_calibration_error`` per class
(bins ``[lo, hi)``, hence inputs away from the edges), netcal's ``ECE`` on multi-class data
(it switches to a binary mode when the labels take at most 2 values).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchmetrics.functional.classification import (
    binary_calibration_error,
    multiclass_calibration_error,
)

from oodcalib.metrics import (
    classwise_calibration_error,
    expected_calibration_error,
    foreground_bin_stats,
    foreground_calibration_error,
    static_calibration_error,
)
from tests.metrics.helpers import (
    CLASSES,
    N_BINS,
    SEEDS,
    assert_rejects_bad_inputs,
    random_probs,
)


def foreground_pixels(probs, labels):
    keep = labels != 0
    return probs[:, keep].T.copy(), labels[keep].copy()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_bins", N_BINS)
@pytest.mark.parametrize("num_classes", CLASSES)
def test_ece_matches_torchmetrics_on_foreground(seed, n_bins, num_classes):
    probs, labels = random_probs(seed, num_classes, (3, 20, 20), n_bins)
    probs = probs.astype(np.float32)
    p, y = foreground_pixels(probs, labels)
    expected = multiclass_calibration_error(
        torch.from_numpy(p), torch.from_numpy(y), num_classes=num_classes, n_bins=n_bins, norm="l1"
    ).item()
    assert foreground_calibration_error(probs, labels, n_bins) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_bins", N_BINS)
@pytest.mark.parametrize("num_classes", [4, 6])  # K = 3 leaves 2 foreground labels
def test_ece_matches_netcal_on_foreground(seed, n_bins, num_classes):
    netcal_ece = pytest.importorskip("netcal.metrics").ECE
    probs, labels = random_probs(seed, num_classes, (30, 40), n_bins)
    p, y = foreground_pixels(probs, labels)
    assert len(np.unique(y)) >= 3  # netcal goes binary with <= 2 distinct labels
    expected = netcal_ece(bins=n_bins).measure(p, y)
    assert foreground_calibration_error(probs, labels, n_bins) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_bins", N_BINS)
@pytest.mark.parametrize("num_classes", CLASSES)
def test_cece_is_mean_of_torchmetrics_binary_ece_on_foreground(seed, n_bins, num_classes):
    probs, labels = random_probs(seed, num_classes, (2, 25, 20), n_bins)
    p, y = foreground_pixels(probs, labels)
    per_class = [
        binary_calibration_error(
            torch.from_numpy(p[:, c].copy()),
            torch.from_numpy((y == c).astype(np.int64)),
            n_bins=n_bins,
            norm="l1",
        ).item()
        for c in range(num_classes)  # background included: its p_0 is never right here
    ]
    assert classwise_calibration_error(probs, labels, n_bins) == pytest.approx(
        np.mean(per_class), abs=1e-6
    )


def test_same_as_roi_metrics_with_foreground_mask_and_background_ignored():
    probs, labels = random_probs(7, 4, (2, 16, 16), 15)
    mask = labels != 0
    ece = foreground_calibration_error(probs, labels)
    cece = classwise_calibration_error(probs, labels)
    assert ece == expected_calibration_error(probs, labels, mask, 15)
    assert cece == static_calibration_error(probs, labels, mask, 15)
    top, classwise = foreground_bin_stats(torch.from_numpy(probs), torch.from_numpy(labels))
    assert top.ece() == ece and classwise.sce() == cece and top.num_pixels == mask.sum()
    # background pixels do not matter
    other = probs.copy()
    other[:, ~mask] = np.roll(other[:, ~mask], 1, axis=0)
    assert foreground_calibration_error(other, labels) == ece
    assert classwise_calibration_error(other, labels) == cece


def test_hand_example():
    # 3 classes, pixels labelled 0, 1, 2, 2; the background pixel is ignored (N = 3).
    # probs of the foreground pixels: (0.1, 0.7, 0.2), (0.2, 0.3, 0.5), (0.6, 0.1, 0.3)
    # top label: 0.7 right, 0.5 right, 0.6 wrong -> (0.3 + 0.5 + 0.6) / 3
    # class 0: 0.1, 0.2, 0.6 all wrong -> 0.9 / 3; class 1: 0.7 right, 0.3, 0.1 wrong
    # -> (0.3 + 0.3 + 0.1) / 3; class 2: 0.2 wrong, 0.5, 0.3 right -> (0.2 + 0.5 + 0.7) / 3
    probs = np.array([[0.9, 0.1, 0.2, 0.6], [0.05, 0.7, 0.3, 0.1], [0.05, 0.2, 0.5, 0.3]])
    labels = np.array([0, 1, 2, 2])
    assert foreground_calibration_error(probs, labels) == pytest.approx(1.4 / 3, abs=1e-12)
    assert classwise_calibration_error(probs, labels) == pytest.approx(
        (0.9 + 0.7 + 1.4) / 9, abs=1e-12
    )


def test_no_foreground_is_nan():
    probs, labels = random_probs(0, 4, (5, 5), 15)
    background = np.zeros_like(labels)
    assert np.isnan(foreground_calibration_error(probs, background))
    assert np.isnan(classwise_calibration_error(probs, background))


def test_errors():
    for fn in (foreground_calibration_error, classwise_calibration_error):
        probs, labels = assert_rejects_bad_inputs(fn)
        with pytest.raises(ValueError, match="labels must lie"):
            fn(probs, labels + 4)
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            fn(probs * 3, labels)
