"""Marginal ACE, MCE and ECE (ACE paper) against MONAI, loops and hand-computed values.

MONAI's ``calibration_binning`` uses float32 edges ``linspace(0, 1 + eps_f32, n + 1)`` and
``torch.bucketize(p, edges[1:], right=False)``, i.e. right-closed bins ``(lo, hi]`` like
ours (its docstring says ``[left, right)``, but torch's ``right=False`` means
``edges[i-1] < p <= edges[i]``). Its edges sit ``k / n * eps_f32`` (at most 1.2e-7) above
ours, so a value exactly ``k / n`` goes to the lower bin in both; they differ only for
values in ``(k / n, k / n * (1 + eps_f32)]``. The random inputs stay 1e-6 away from edges.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.metrics import CalibrationErrorMetric, calibration_binning

from oodcalib.metrics import (
    BinStats,
    MicroBins,
    ace_from_bins,
    average_calibration_error,
    classwise_bin_stats,
    marginal_bin_stats,
    marginal_calibration_error,
    marginal_ece_from_bins,
    maximum_calibration_error,
    mce_from_bins,
)
from tests.metrics.helpers import (
    CLASSES,
    N_BINS,
    SEEDS,
    assert_rejects_bad_inputs,
    random_probs,
)

FUNCTIONS = {
    "average": average_calibration_error,
    "maximum": maximum_calibration_error,
    "expected": marginal_calibration_error,
}


def monai_error(probs, labels, n_bins, reduction):
    """MONAI's per-class error, foreground classes only, averaged over classes."""
    num_classes = probs.shape[0]
    one_hot = np.moveaxis(np.eye(num_classes)[labels], -1, 0)
    metric = CalibrationErrorMetric(
        num_bins=n_bins, include_background=False, calibration_reduction=reduction, right=False
    )
    metric(y_pred=torch.from_numpy(probs[None]).float(), y=torch.from_numpy(one_hot[None]))
    return metric.aggregate().item()


def loop_gaps(scores, hits, n_bins):
    """(n_m, e_m, o_m) of the non-empty right-closed bins (0 in the first)."""
    rows = []
    for m in range(n_bins):
        lower, upper = m / n_bins, (m + 1) / n_bins
        in_bin = (scores > lower) & (scores <= upper) | ((m == 0) & (scores == 0))
        if in_bin.any():
            rows.append((in_bin.sum(), scores[in_bin].mean(), hits[in_bin].mean()))
    return np.array(rows)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_bins", [*N_BINS, 20])
@pytest.mark.parametrize("num_classes", CLASSES)
def test_matches_monai(seed, n_bins, num_classes):
    shape = [(24, 24), (3, 10, 12), (2, 2, 9, 13)][seed]
    probs, labels = random_probs(seed, num_classes, shape, n_bins)
    for reduction, fn in FUNCTIONS.items():
        assert fn(probs, labels, n_bins) == pytest.approx(
            monai_error(probs, labels, n_bins, reduction), abs=1e-5
        ), reduction


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_bins", [5, 20])
def test_matches_loop_oracle(seed, n_bins):
    probs, labels = random_probs(seed, 4, (2, 9, 11), n_bins)
    per_class = []
    for c in range(1, 4):
        n, e, o = loop_gaps(probs[c].ravel(), labels.ravel() == c, n_bins).T
        gap = np.abs(o - e)
        per_class.append((gap.mean(), gap.max(), (n * gap).sum() / n.sum()))
    ace, mce, ece = np.mean(per_class, axis=0)
    assert average_calibration_error(probs, labels, n_bins) == pytest.approx(ace, abs=1e-12)
    assert maximum_calibration_error(probs, labels, n_bins) == pytest.approx(mce, abs=1e-12)
    assert marginal_calibration_error(probs, labels, n_bins) == pytest.approx(ece, abs=1e-12)


def test_monai_bin_convention_is_ours():
    # exact float32 edges k/n go to the lower bin in both; just above an edge they differ
    above_half = float(np.nextafter(np.float32(0.5), np.float32(1)))
    values = torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0, 0.3, above_half])
    probs = torch.stack([1 - values, values])
    labels = np.zeros(7, np.int64)
    _, _, counts = calibration_binning(probs[None], torch.eye(2)[labels].T[None], num_bins=4)
    ours = marginal_bin_stats(probs.numpy(), labels, n_bins=4).counts
    assert ours.tolist() == [[2, 2, 2, 1], [2, 2, 2, 1]]
    assert counts[0, 0].tolist() == [2, 2, 2, 1]
    assert counts[0, 1].tolist() == [2, 3, 1, 1]  # MONAI's edge is 0.5 * (1 + eps_f32)


def test_hand_example_with_absent_class_and_empty_bins():
    # 3 classes, 4 pixels, 4 bins; labels 0, 1, 1, 0 (class 2 absent, still counted)
    # class 1 p: 0.1, 0.2, 0.6, 0.9 -> bins 0 (2 px, o 1/2, e .15), 2 (o 1, e .6), 3 (o 0, e .9)
    #   gaps .35, .4, .9 (bin 1 empty): ACE 1.65/3, MCE .9, ECE (2*.35 + .4 + .9)/4 = .5
    # class 2 p: 0.1, 0.1, 0.1, 0.05 -> bin 0 only, o 0, e .0875: ACE = MCE = ECE = .0875
    probs = np.array([[0.8, 0.7, 0.3, 0.05], [0.1, 0.2, 0.6, 0.9], [0.1, 0.1, 0.1, 0.05]])
    labels = np.array([0, 1, 1, 0])
    assert average_calibration_error(probs, labels, 4) == pytest.approx((0.55 + 0.0875) / 2)
    assert maximum_calibration_error(probs, labels, 4) == pytest.approx((0.9 + 0.0875) / 2)
    assert marginal_calibration_error(probs, labels, 4) == pytest.approx((0.5 + 0.0875) / 2)
    stats = marginal_bin_stats(probs, labels, 4)
    assert stats.counts[1].tolist() == [2, 0, 1, 1]
    assert ace_from_bins(stats) == average_calibration_error(probs, labels, 4)
    # a perfect one-hot prediction has no error; background rows never count
    one_hot = np.eye(3)[labels].T
    assert average_calibration_error(one_hot, labels) == 0.0
    wrong_background = BinStats(stats.counts.copy(), stats.conf_sum.copy(), stats.acc_sum.copy())
    wrong_background.acc_sum[0] = 0
    assert mce_from_bins(wrong_background) == mce_from_bins(stats)
    assert marginal_ece_from_bins(wrong_background) == marginal_ece_from_bins(stats)


def test_default_is_twenty_bins_over_all_voxels():
    probs, labels = random_probs(5, 4, (4, 16, 16), 20)
    stats = marginal_bin_stats(torch.from_numpy(probs), torch.from_numpy(labels))
    assert stats.counts.shape == (4, 20) and stats.num_pixels == labels.size
    assert average_calibration_error(probs, labels) == ace_from_bins(stats)


# --- micro average -------------------------------------------------------------------


def test_micro_bins_pool_counts_and_frequencies():
    scans = [random_probs(seed, 4, (3, 8, 8), 20) for seed in range(4)]
    per_scan = [marginal_bin_stats(p, y) for p, y in scans]
    micro = MicroBins.merge(MicroBins.from_scan(s) for s in per_scan)
    pooled = classwise_bin_stats(
        np.concatenate([p.reshape(4, -1) for p, _ in scans], axis=1),
        np.concatenate([y.ravel() for _, y in scans]),
        n_bins=20,
    )
    assert np.array_equal(micro.counts, pooled.counts)
    assert np.array_equal(micro.acc_sum, pooled.acc_sum)
    e, o = micro.bin_means()
    np.testing.assert_array_equal(o, pooled.bin_means()[1])
    # e_m: unweighted mean over the scans where the bin is filled, not the pooled mean
    with np.errstate(invalid="ignore"):
        scan_e = np.stack([s.conf_sum / s.counts for s in per_scan])
    np.testing.assert_allclose(e, np.nanmean(scan_e, axis=0), rtol=1e-12)
    assert not np.allclose(e, pooled.bin_means()[0], equal_nan=True)
    # grouping does not matter, and one scan gives the macro values
    regrouped = MicroBins.from_scan(per_scan[0]) + MicroBins.merge(
        [MicroBins.from_scan(s) for s in per_scan[1:]]
    )
    assert regrouped.ace() == pytest.approx(micro.ace(), abs=1e-15)
    one = MicroBins.from_scan(per_scan[0])
    assert one.ace() == pytest.approx(ace_from_bins(per_scan[0]), abs=1e-15)
    assert one.mce() == pytest.approx(mce_from_bins(per_scan[0]), abs=1e-15)
    assert one.ece() == pytest.approx(marginal_ece_from_bins(per_scan[0]), abs=1e-15)


def test_micro_hand_example():
    # class 1, 2 bins. Scan A: bin 0 holds p 0.1, 0.3 (one labelled 1); scan B: bin 0 holds
    # p 0.4 (labelled 0), bin 1 holds p 0.9 (labelled 1).
    # bin 0: n 3, o 1/3, e = mean(0.2, 0.4) = 0.3 (the pooled mean would be 0.8/3); bin 1:
    # n 1, o 1, e 0.9. ACE (1/30 + 0.1) / 2, MCE 0.1, ECE (3/30 + 0.1) / 4
    scan_a = marginal_bin_stats(np.array([[0.9, 0.7], [0.1, 0.3]]), np.array([0, 1]), n_bins=2)
    scan_b = marginal_bin_stats(np.array([[0.6, 0.1], [0.4, 0.9]]), np.array([0, 1]), n_bins=2)
    micro = MicroBins.from_scan(scan_a) + MicroBins.from_scan(scan_b)
    assert micro.counts[1].tolist() == [3, 1] and micro.scans[1].tolist() == [2, 1]
    assert micro.bin_means()[0][1] == pytest.approx([0.3, 0.9])
    assert micro.ace() == pytest.approx((1 / 30 + 0.1) / 2)
    assert micro.mce() == pytest.approx(0.1)
    assert micro.ece() == pytest.approx((3 / 30 + 0.1) / 4)


# --- errors --------------------------------------------------------------------------


def test_errors():
    for fn in FUNCTIONS.values():
        probs, labels = assert_rejects_bad_inputs(fn)
    with pytest.raises(ValueError, match="K >= 2"):
        average_calibration_error(probs[:1], np.zeros((6, 6), np.int64))
    with pytest.raises(ValueError, match="K >= 2"):
        ace_from_bins(BinStats.zeros(20))
    with pytest.raises(ValueError, match="no voxel"):
        mce_from_bins(BinStats.zeros(20, 4))
    with pytest.raises(ValueError, match="class-wise"):
        MicroBins.from_scan(BinStats.zeros(20))
    with pytest.raises(ValueError, match="merge"):
        MicroBins.from_scan(BinStats.zeros(20, 4)) + MicroBins.from_scan(BinStats.zeros(10, 4))
    with pytest.raises(ValueError, match="n_bins"):
        marginal_calibration_error(probs, labels, n_bins=0)
