"""Paired significance tests, multiple-comparison correction, bootstrap CIs and marks.

Pure functions on paired samples (scipy and statsmodels do the work); the comparison of
every method against a reference is in :mod:`~oodcalib.benchmark.reporting.statistics`.
"""

from __future__ import annotations

import gc
import inspect
import warnings
from collections.abc import Sequence

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

from oodcalib.errors import OodcalibError, UnknownNameError

#: Paired tests by name (two-sided).
TESTS = {"wilcoxon": stats.wilcoxon, "ttest": stats.ttest_rel}
#: Multiple-comparison corrections accepted by
#: :func:`~oodcalib.benchmark.reporting.statistics.compare_to_reference`.
CORRECTIONS = ("holm", "none")


def _check_choice(name: str | None, valid: Sequence[str], kind: str) -> str:
    if name is None or name not in valid:
        raise UnknownNameError(kind, str(name), list(valid))
    return name


def check_options(test: str, correction: str | None) -> str:
    """Validate a test and correction name; returns the correction (``None`` -> "none").

    Raises:
        UnknownNameError: Listing the valid names.
    """
    _check_choice(test, sorted(TESTS), "test")
    return _check_choice(correction or "none", CORRECTIONS, "correction")


def paired_test(
    values: Sequence[float], reference: Sequence[float], test: str = "wilcoxon"
) -> float:
    """Two-sided p-value of a paired test of ``values`` against ``reference``.

    ``"wilcoxon"`` is :func:`scipy.stats.wilcoxon` (signed-rank test of the differences
    ``values - reference``, zero differences dropped); ``"ttest"`` is
    :func:`scipy.stats.ttest_rel`. If every difference is exactly zero the samples are
    identical and the p-value is defined as 1.0 (scipy would warn or raise). Constant
    non-zero differences give p = 0 with the t-test.

    Raises:
        UnknownNameError: For an unknown ``test`` (lists the valid ones).
        OodcalibError: For empty or non-1-D input, different lengths or NaNs.

    Example:
        >>> paired_test([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
        1.0
        >>> round(paired_test([2, 3, 4, 5, 6, 7], [1, 1, 1, 1, 1, 1]), 4)
        0.0312
    """
    function = TESTS[_check_choice(test, sorted(TESTS), "test")]
    x, y = np.asarray(values, dtype=float), np.asarray(reference, dtype=float)
    if x.ndim != 1 or x.shape != y.shape or x.size == 0:
        raise OodcalibError(
            f"paired test needs two non-empty 1-D samples of equal length, "
            f"got shapes {x.shape} and {y.shape}"
        )
    if np.isnan(x).any() or np.isnan(y).any():
        raise OodcalibError("paired test got NaN values; drop or fix those units first")
    if np.all(x - y == 0):
        return 1.0
    d = x - y
    if (
        test == "wilcoxon"
        and d.size <= _EXACT_MAX
        and ((d == 0).any() or len(np.unique(np.abs(d))) < d.size)
    ):
        return signed_rank_permutation_p(d)
    return float(function(x, y).pvalue)


#: Sample sizes up to which scipy's Wilcoxon test (``method="auto"``) with ties or zeros
#: is the exact permutation test over all 2^n sign flips.
_EXACT_MAX = 13


def signed_rank_permutation_p(differences: Sequence[float]) -> float:
    """Two-sided p of the Wilcoxon signed-rank test by enumerating every sign flip.

    What :func:`scipy.stats.wilcoxon` computes for ``n <= 13`` paired differences with
    ties or zeros (its exact permutation test: zeros dropped, average ranks of ``|d|``,
    statistic ``R+``, ``p = min(1, 2 min(P(R+ <= r), P(R+ >= r)))``), but vectorised over
    the ``2^n`` flips instead of one scipy call per flip: about 1 ms instead of 1 s.

    Example:
        >>> d = [0.0, 1.0, 1.0, 2.0, -0.5]
        >>> signed_rank_permutation_p(d) == float(stats.wilcoxon(d).pvalue)
        True
    """
    d = np.asarray(differences, dtype=float)
    d = d[d != 0]
    if d.size == 0:
        return 1.0
    ranks = stats.rankdata(np.abs(d))
    observed = ranks[d > 0].sum()
    flips = (np.arange(2**d.size)[:, None] >> np.arange(d.size)) & 1
    null = flips @ ranks
    gamma = abs(observed) * np.finfo(float).eps * 100  # scipy's tolerance for equal values
    less, greater = np.mean(null <= observed + gamma), np.mean(null >= observed - gamma)
    return float(min(1.0, 2 * min(less, greater)))


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (statsmodels ``multipletests(method="holm")``).

    The i-th smallest of m p-values becomes ``max_{j<=i} min(1, (m - j + 1) p_(j))``.
    NaN p-values are kept as NaN and do not count in m.

    Example:
        >>> holm([0.01, 0.04, 0.03]).round(4).tolist()
        [0.03, 0.06, 0.06]
    """
    p = np.asarray(pvalues, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    finite = ~np.isnan(p)
    if finite.any():
        # statsmodels' holm branch calls gc.collect(), 0.1 s+ in a process holding torch;
        # freezing the current objects makes that collection trivial (gc state restored).
        freeze = gc.get_freeze_count() == 0
        if freeze:
            gc.freeze()
        try:
            adjusted[finite] = multipletests(p[finite], method="holm")[1]
        finally:
            if freeze:
                gc.unfreeze()
    return adjusted


def bootstrap_ci(
    differences: Sequence[float], confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Bootstrap confidence interval of the mean of ``differences``.

    Uses :func:`scipy.stats.bootstrap` (BCa; percentile if BCa is undefined, e.g. with
    heavy ties). Constant input (including a single value, and spreads below 1e-12
    relative, i.e. float rounding) gives ``(mean, mean)``.

    Example:
        >>> bootstrap_ci([0.2, 0.2, 0.2])
        (0.2, 0.2)
        >>> low, high = bootstrap_ci(np.linspace(0.0, 1.0, 41), seed=1)
        >>> bool(low < 0.5 < high)
        True
    """
    d = np.asarray(differences, dtype=float)
    if d.ndim != 1 or d.size == 0 or np.isnan(d).any():
        raise OodcalibError("bootstrap_ci needs a non-empty 1-D sample without NaNs")
    if np.ptp(d) <= 1e-12 * max(1.0, float(np.abs(d).max())):  # constant up to rounding
        centre = float(d[0]) if np.all(d == d[0]) else float(d.mean())
        return centre, centre
    key = "rng" if "rng" in inspect.signature(stats.bootstrap).parameters else "random_state"
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = stats.bootstrap(
                (d,),
                np.mean,
                confidence_level=confidence,
                n_resamples=n_resamples,
                method=method,
                **{key: np.random.default_rng(seed)},
            )
        low, high = result.confidence_interval
        if np.isfinite(low) and np.isfinite(high):
            break
    return float(low), float(high)


def significance_mark(p: float) -> str:
    """The paper's mark: ``†`` p < 0.01, ``‡`` 0.01 <= p < 0.05, ``∗`` p >= 0.05.

    Significance means p strictly below the level, so p = 0.05 exactly gets ``∗`` (and
    p = 0.01 gets ``‡``). NaN or ``None`` (the reference itself) gives ``""``.

    Example:
        >>> [significance_mark(p) for p in (0.001, 0.01, 0.049, 0.05, float("nan"))]
        ['†', '‡', '‡', '∗', '']
    """
    if p is None or np.isnan(p):
        return ""
    return "\u2020" if p < 0.01 else "\u2021" if p < 0.05 else "\u2217"
