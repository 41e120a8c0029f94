"""Dataset-level (micro) metrics from per-scan bin rows, against MicroBins as the oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oodcalib.benchmark.layout import BIN_COLUMNS, RESULT_COLUMNS
from oodcalib.benchmark.reporting.dataset_metrics import ALL_CASES, micro_results
from oodcalib.benchmark.reporting.dataset_reliability import reliability_histograms
from oodcalib.metrics import BinStats, classwise_bin_stats
from oodcalib.metrics.marginal_micro import MicroBins
from tests.metrics.helpers import random_probs


def bin_rows(stats: BinStats, key: tuple) -> list[tuple]:
    return [(*key, *row) for row in stats.rows()]


def _scans(seed: int, count: int) -> list[BinStats]:
    return [
        classwise_bin_stats(*random_probs(seed * 100 + i, 4, (3, 12, 12), 20), n_bins=20)
        for i in range(count)
    ]


@pytest.mark.parametrize("seed", range(4))
def test_micro_results_equal_merged_micro_bins(seed):
    fits = {
        (m, f): _scans(seed + 10 * f + (m == "ts"), 3 + f) for m in ("uc", "ts") for f in range(2)
    }
    rows = [
        row
        for (m, f), scans in fits.items()
        for i, stats in enumerate(scans)
        for row in bin_rows(stats, ("dice_ce", m, f, 0, "clean", f"case{i}"))
    ]
    micro = micro_results(pd.DataFrame(rows, columns=BIN_COLUMNS))
    assert list(micro.columns) == RESULT_COLUMNS and set(micro["case"]) == {ALL_CASES}
    assert len(micro) == 4 * 3
    for (m, f), scans in fits.items():
        oracle = MicroBins.merge(MicroBins.from_scan(s) for s in scans)
        got = micro[(micro["method"] == m) & (micro["fold"] == f)].set_index("metric")["value"]
        np.testing.assert_allclose(got["micro_ace"], oracle.ace(), rtol=1e-12)
        np.testing.assert_allclose(got["micro_mce"], oracle.mce(), rtol=1e-12)
        np.testing.assert_allclose(got["micro_marginal_ece"], oracle.ece(), rtol=1e-12)


def test_micro_of_one_scan_is_its_macro_value_and_empty_bins_are_skipped():
    stats = BinStats(
        np.array([[3, 0, 1], [0, 2, 2]]),
        np.array([[0.3, 0.0, 0.9], [0.0, 1.0, 1.8]]),
        np.array([[1, 0, 1], [0, 0, 2]]),
    )
    micro = micro_results(
        pd.DataFrame(bin_rows(stats, ("dice_ce", "uc", 0, 0, "lge", "a")), columns=BIN_COLUMNS)
    ).set_index("metric")["value"]
    # class 1 only (class 0 is background): bins 1 and 2, gaps |0 - 0.5| and |1 - 0.9|
    assert micro["micro_ace"] == pytest.approx((0.5 + 0.1) / 2)
    assert micro["micro_mce"] == pytest.approx(0.5)
    assert micro["micro_marginal_ece"] == pytest.approx((2 * 0.5 + 2 * 0.1) / 4)


def test_reliability_histograms_count_scans_per_observed_frequency():
    rows = pd.DataFrame(
        {
            "class": [1, 1, 1, 2],
            "bin": [19, 19, 0, 5],
            "count": [10, 5, 7, 1],
            "acc_sum": [10, 0, 0, 1],
        }
    )
    hist, voxels = reliability_histograms(rows)
    assert hist.shape == (4, 20, 20) and hist.sum() == 4
    assert hist[1, 19, 19] == 1 and hist[1, 0, 19] == 1 and hist[1, 0, 0] == 1
    assert hist[2, 19, 5] == 1
    assert voxels[1].tolist()[19] == 15 and voxels[1, 0] == 7
