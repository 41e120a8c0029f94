"""Paired tests, Holm, bootstrap CIs and marks against scipy, statsmodels and hand cases."""

import numpy as np
import pytest
from scipy import stats

from oodcalib.benchmark.reporting.significance import (
    bootstrap_ci,
    holm,
    paired_test,
    significance_mark,
)
from oodcalib.errors import OodcalibError, UnknownNameError

RNG = np.random.default_rng(3)
X = RNG.normal(0.2, 0.05, 30)
Y = X + RNG.normal(0.01, 0.02, 30)


@pytest.mark.parametrize(
    ("test", "oracle"), [("wilcoxon", stats.wilcoxon), ("ttest", stats.ttest_rel)]
)
def test_paired_test_matches_scipy(test, oracle):
    assert paired_test(Y, X, test) == pytest.approx(oracle(Y, X).pvalue, rel=1e-12)
    assert paired_test(X, Y, test) == pytest.approx(oracle(X, Y).pvalue, rel=1e-12)


def test_paired_test_exact_small_case():
    # 6 positive differences with distinct ranks: exact two-sided p = 2 / 2**6
    assert paired_test([2, 3, 4, 5, 6, 7], [1, 1, 1, 1, 1, 1]) == pytest.approx(2 / 64)


@pytest.mark.parametrize("seed", range(16))
def test_small_samples_with_ties_match_scipys_permutation_test(seed):
    # n <= 13 with ties or zeros: scipy enumerates every sign flip, one call per flip;
    # ours is vectorised and must give the same p-value
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 12)) if seed else 13  # scipy's oracle costs 2^n calls
    y = rng.integers(0, 3, n) * 0.5
    x = y + rng.integers(-3, 4, n) * rng.choice([0.25, 1.0])
    if np.all(x == y):
        x[0] += 1.0
    assert paired_test(x, y) == pytest.approx(float(stats.wilcoxon(x, y).pvalue), abs=1e-12)


@pytest.mark.parametrize("test", ["wilcoxon", "ttest"])
def test_identical_samples_give_p_one(test):
    assert paired_test(X, X.copy(), test) == 1.0


def test_paired_test_errors():
    with pytest.raises(UnknownNameError, match="valid names are: ttest, wilcoxon"):
        paired_test(X, Y, "mannwhitney")
    with pytest.raises(OodcalibError, match="equal length"):
        paired_test(X, Y[:-1])
    with pytest.raises(OodcalibError, match="NaN"):
        paired_test(np.r_[X[:-1], np.nan], Y)
    with pytest.raises(OodcalibError, match="non-empty"):
        paired_test([], [])


def test_holm_hand_computed():
    # sorted 0.01, 0.03, 0.04 -> x3, x2, x1 = 0.03, 0.06, 0.04 -> running max 0.03, 0.06, 0.06
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    np.testing.assert_allclose(holm([0.2, 0.6]), [0.4, 0.6])
    adjusted = holm([0.01, np.nan, 0.04])  # NaN ignored: m = 2
    assert np.isnan(adjusted[1])
    np.testing.assert_allclose(adjusted[[0, 2]], [0.02, 0.04])


@pytest.mark.parametrize(
    ("p", "mark"),
    [
        (0.0, "†"),
        (0.0099, "†"),
        (0.01, "‡"),
        (0.0499, "‡"),
        (0.05, "∗"),
        (0.7, "∗"),
        (float("nan"), ""),
        (None, ""),
    ],
)
def test_significance_marks(p, mark):
    assert significance_mark(p) == mark


def test_marks_are_the_papers_unicode_characters():
    assert [ord(significance_mark(p)) for p in (0.001, 0.02, 0.5)] == [0x2020, 0x2021, 0x2217]


def test_bootstrap_ci_covers_known_shift_and_is_reproducible():
    differences = 0.3 + np.random.default_rng(0).normal(0.0, 0.1, 200)
    low, high = bootstrap_ci(differences, seed=5)
    assert low < 0.3 < high and low > 0.0
    # normal-theory oracle: mean -/+ 1.96 s / sqrt(n)
    half = 1.96 * differences.std(ddof=1) / np.sqrt(differences.size)
    assert low == pytest.approx(differences.mean() - half, abs=0.004)
    assert high == pytest.approx(differences.mean() + half, abs=0.004)
    assert bootstrap_ci(differences, seed=5) == (low, high)
    assert bootstrap_ci(differences, seed=6) != (low, high)
    narrow = bootstrap_ci(differences, confidence=0.5, seed=5)
    assert low < narrow[0] < narrow[1] < high


def test_bootstrap_ci_degenerate_inputs():
    assert bootstrap_ci(np.full(10, 0.25)) == (0.25, 0.25)
    assert bootstrap_ci([0.1]) == (0.1, 0.1)
    with pytest.raises(OodcalibError):
        bootstrap_ci([0.1, np.nan])
