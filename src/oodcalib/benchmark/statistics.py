"""Paired significance tests of every method against a reference method (LTS by default).

The matched unit is one test scan of one calibrator run: ``(fold, repeat, case)`` within
a domain. For each (metric, domain, method) the method's per-unit values are paired with
the reference's, and :func:`compare_to_reference` reports the mean, the mean paired
difference with a bootstrap confidence interval, a p-value (Wilcoxon signed-rank or
paired t-test, optionally Holm-corrected) and the paper's significance mark.

Note that the repeats of one fold share the segmentation network (and, for methods
without a seed, give identical values), so the units are not fully independent and the
p-values are optimistic; they match the paper's "paired test over test scans" reading.
"""

from __future__ import annotations

import gc
import inspect
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from oodcalib.benchmark.summary import DOMAIN_ORDER, METHOD_ORDER
from oodcalib.errors import OodcalibError, UnknownNameError

#: Paired tests by name (two-sided).
TESTS = {"wilcoxon": stats.wilcoxon, "ttest": stats.ttest_rel}
#: Multiple-comparison corrections accepted by :func:`compare_to_reference`.
CORRECTIONS = ("holm", "none")
#: Pseudo-domain: per-unit mean over the artifact domains.
ARTIFACT_AVG = "artifact avg"
#: Domains that are not artifacts (intra-domain and cross-sequence).
NON_ARTIFACT = ("clean", "lge")
UNIT = ["fold", "repeat", "case"]
COLUMNS = ["method", "fold", "repeat", "domain", "case", "metric", "value"]


def _check_choice(name: str | None, valid: Sequence[str], kind: str) -> str:
    if name not in valid:
        raise UnknownNameError(kind, str(name), list(valid))
    return name


def check_options(test: str, correction: str | None) -> str:
    """Validate a test and correction name; returns the correction (``None`` -> "none").

    Raises:
        UnknownNameError: Listing the valid names.
    """
    _check_choice(test, sorted(TESTS), "test")
    return _check_choice(correction or "none", CORRECTIONS, "correction")


def paired_test(values: Sequence[float], reference: Sequence[float],
                test: str = "wilcoxon") -> float:
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
        raise OodcalibError(f"paired test needs two non-empty 1-D samples of equal length, "
                            f"got shapes {x.shape} and {y.shape}")
    if np.isnan(x).any() or np.isnan(y).any():
        raise OodcalibError("paired test got NaN values; drop or fix those units first")
    if np.all(x - y == 0):
        return 1.0
    return float(function(x, y).pvalue)


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


def bootstrap_ci(differences: Sequence[float], confidence: float = 0.95,
                 n_resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
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
            result = stats.bootstrap((d,), np.mean, confidence_level=confidence,
                                     n_resamples=n_resamples, method=method,
                                     **{key: np.random.default_rng(seed)})
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


def ordered(values: Sequence[str], order: Sequence[str]) -> list[str]:
    """``values`` in ``order``; unknown ones follow alphabetically."""
    return [v for v in order if v in values] + sorted(v for v in set(values) if v not in order)


def ordered_domains(domains: Sequence[str]) -> list[str]:
    """Domains in table order, ``artifact avg`` right after the last artifact domain."""
    plain = ordered([d for d in domains if d != ARTIFACT_AVG], DOMAIN_ORDER)
    if ARTIFACT_AVG in domains:
        last = max((i for i, d in enumerate(plain) if d not in NON_ARTIFACT), default=-1)
        plain.insert(last + 1, ARTIFACT_AVG)
    return plain


def _validate(results: pd.DataFrame, reference: str, metrics: Sequence[str]) -> pd.DataFrame:
    if not metrics:
        raise OodcalibError("no metric requested; pass e.g. metrics=('ece', 'sce', 'dice')")
    missing = [c for c in COLUMNS if c not in results.columns]
    if missing:
        raise OodcalibError(f"results lack column(s) {', '.join(missing)}; "
                            f"expected {', '.join(COLUMNS)}")
    frame = results[COLUMNS].astype({"method": str, "domain": str, "case": str, "metric": str})
    methods = sorted(frame["method"].unique())
    if reference not in methods:
        raise OodcalibError(f"reference method {reference!r} not in results; methods "
                            f"present: {', '.join(methods) or 'none'}")
    absent = [m for m in metrics if m not in set(frame["metric"])]
    if absent:
        raise OodcalibError(f"metric(s) {', '.join(absent)} not in results; metrics present: "
                            f"{', '.join(sorted(frame['metric'].unique()))}")
    frame = frame[frame["metric"].isin(metrics)]
    bad = frame[frame["value"].isna()]
    if len(bad):
        first = bad.iloc[0]
        raise OodcalibError(f"{len(bad)} NaN value(s), e.g. method {first['method']!r} "
                            f"domain {first['domain']!r} metric {first['metric']!r} case "
                            f"{first['case']!r}")
    duplicated = frame.duplicated(["method", "domain", "metric", *UNIT])
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise OodcalibError(f"{duplicated.sum()} duplicated unit(s), e.g. method "
                            f"{first['method']!r} domain {first['domain']!r} fold "
                            f"{first['fold']} repeat {first['repeat']} case {first['case']!r}")
    return frame


def _with_artifact_avg(frame: pd.DataFrame) -> pd.DataFrame:
    """Append per-unit means over the artifact domains (units present in all of them)."""
    artifacts = [d for d in frame["domain"].unique() if d not in NON_ARTIFACT]
    if not artifacts:
        return frame
    wide = frame[frame["domain"].isin(artifacts)].pivot_table(
        index=["method", "metric", *UNIT], columns="domain", values="value")
    average = wide.dropna(how="any").mean(axis=1).rename("value").reset_index()
    return pd.concat([frame, average.assign(domain=ARTIFACT_AVG)], ignore_index=True)


def _paired(wide: pd.DataFrame, metric: str, domain: str, method: str, reference: str
            ) -> pd.DataFrame:
    """Columns value, ref of the units of one domain; raises if any unit is unmatched.

    ``wide`` has one row per unit (fold, repeat, case) of ``domain`` and one column per
    method, NaN where a method has no value for the unit (an outer join on the unit).
    """
    pairs = wide.reindex(columns=[method, reference])
    pairs.columns = ["value", "ref"]
    unmatched = pairs[pairs["value"].isna() != pairs["ref"].isna()]
    if len(unmatched):
        (fold, repeat, case), first = unmatched.index[0], unmatched.iloc[0]
        only = reference if np.isnan(first["value"]) else method
        raise OodcalibError(
            f"method {method!r}, domain {domain!r}, metric {metric!r}: {len(unmatched)} "
            f"unit(s) not matched with reference {reference!r}, e.g. fold {fold} repeat "
            f"{repeat} case {case!r} only in {only!r}")
    return pairs.dropna()


def compare_to_reference(results: pd.DataFrame, reference: str = "lts",
                         metrics: Sequence[str] = ("ece", "sce", "dice"),
                         test: str = "wilcoxon", correction: str | None = None,
                         confidence: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Tidy table: every method against ``reference``, per metric and domain.

    One row per (metric, domain, method) with ``n`` (matched units), ``mean`` and ``std``
    (ddof=1) of the method's per-unit values, ``diff`` = mean of (method - reference),
    its bootstrap CI ``ci_low``/``ci_high`` (:func:`bootstrap_ci`), ``p_value``
    (:func:`paired_test`), ``p_adjusted`` (Holm within each (metric, domain) over the
    non-reference methods if ``correction="holm"``, else ``p_value``) and ``mark``
    (:func:`significance_mark` of ``p_adjusted``). The reference's own row has diff 0
    and NaN CI/p-values. Columns ``reference``, ``test``, ``correction`` and
    ``confidence`` record the settings. The ``artifact avg`` domain holds, per unit, the
    mean over the artifact domains (all but clean and lge), for units present in all.

    Raises:
        OodcalibError: Missing columns, reference method or metrics; NaN values;
            duplicated or unmatched units (naming the method and domain).
        UnknownNameError: Unknown ``test`` or ``correction``.
    """
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    correction = check_options(test, correction)
    frame = _with_artifact_avg(_validate(results, reference, metrics))
    methods = ordered(list(frame["method"].unique()), METHOD_ORDER)
    rows = []
    for metric in metrics:
        subset = frame[frame["metric"] == metric]
        wide = subset.pivot(index=["domain", *UNIT], columns="method", values="value")
        for domain in ordered_domains(list(subset["domain"].unique())):
            for method in methods:
                pairs = _paired(wide.loc[domain], metric, domain, method, reference)
                row = {"metric": metric, "domain": domain, "method": method,
                       "n": len(pairs), "mean": pairs["value"].mean(),
                       "std": pairs["value"].std(ddof=1), "diff": 0.0,
                       "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan}
                if method != reference:
                    differences = (pairs["value"] - pairs["ref"]).to_numpy()
                    row["diff"] = float(differences.mean())
                    row["ci_low"], row["ci_high"] = bootstrap_ci(differences, confidence,
                                                                 seed=seed)
                    row["p_value"] = paired_test(pairs["value"], pairs["ref"], test)
                rows.append(row)
    table = pd.DataFrame(rows)
    table["p_adjusted"] = table["p_value"]
    if correction == "holm" and len(table):
        for _, index in table.groupby(["metric", "domain"], sort=False).groups.items():
            table.loc[index, "p_adjusted"] = holm(table.loc[index, "p_value"])
    table["mark"] = [significance_mark(p) for p in table["p_adjusted"]]
    return table.assign(reference=reference, test=test, correction=correction,
                        confidence=confidence)
