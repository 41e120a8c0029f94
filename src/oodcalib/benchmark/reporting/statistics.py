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

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from oodcalib.benchmark.layout import ENTRANT_SEP, RESULT_COLUMNS, UNIT
from oodcalib.benchmark.reporting.grouping import (
    as_entrants,
    is_grid,
    ordered,
    ordered_domains,
    with_kind_averages,
)
from oodcalib.benchmark.reporting.significance import (
    bootstrap_ci,
    check_options,
    holm,
    paired_test,
    significance_mark,
)
from oodcalib.errors import OodcalibError


def _validate(results: pd.DataFrame, reference: str, metrics: Sequence[str]) -> pd.DataFrame:
    if not metrics:
        raise OodcalibError("no metric requested; pass e.g. metrics=('ece', 'sce', 'dice')")
    needed = [c for c in RESULT_COLUMNS if c != "loss"]  # absent: a single-loss run
    missing = [c for c in needed if c not in results.columns]
    if missing:
        raise OodcalibError(
            f"results lack column(s) {', '.join(missing)}; expected {', '.join(RESULT_COLUMNS)}"
        )
    frame = results[needed].astype({"method": str, "domain": str, "case": str, "metric": str})
    methods = sorted(frame["method"].unique())
    if reference not in methods:
        raise OodcalibError(
            f"reference {reference!r} not in results; entrants "
            f"present: {', '.join(methods) or 'none'}"
        )
    absent = [m for m in metrics if m not in set(frame["metric"])]
    if absent:
        raise OodcalibError(
            f"metric(s) {', '.join(absent)} not in results; metrics present: "
            f"{', '.join(sorted(frame['metric'].unique()))}"
        )
    frame = frame[frame["metric"].isin(metrics)]
    bad = frame[frame["value"].isna()]
    if len(bad):
        first = bad.iloc[0]
        raise OodcalibError(
            f"{len(bad)} NaN value(s), e.g. method {first['method']!r} "
            f"domain {first['domain']!r} metric {first['metric']!r} case "
            f"{first['case']!r}"
        )
    duplicated = frame.duplicated(["method", "domain", "metric", *UNIT])
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise OodcalibError(
            f"{duplicated.sum()} duplicated unit(s), e.g. method "
            f"{first['method']!r} domain {first['domain']!r} fold "
            f"{first['fold']} repeat {first['repeat']} case {first['case']!r}"
        )
    return frame


def _paired(
    wide: pd.DataFrame, metric: str, domain: str, method: str, reference: str
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
            f"{repeat} case {case!r} only in {only!r}"
        )
    return pairs.dropna()


def compare_to_reference(
    results: pd.DataFrame,
    reference: str = "lts",
    metrics: Sequence[str] = ("ece", "sce", "dice"),
    test: str = "wilcoxon",
    correction: str | None = None,
    confidence: float = 0.95,
    seed: int = 0,
    names: Mapping[str, str] | None = None,
    domains: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Tidy table: every method against ``reference``, per metric and domain.

    One row per (metric, domain, method) with ``n`` (matched units), ``mean`` and ``std``
    (ddof=1) of the method's per-unit values, ``diff`` = mean of (method - reference),
    its bootstrap CI ``ci_low``/``ci_high`` (:func:`bootstrap_ci`), ``p_value``
    (:func:`paired_test`), ``p_adjusted`` (Holm within each (metric, domain) over the
    non-reference methods if ``correction="holm"``, else ``p_value``) and ``mark``
    (:func:`significance_mark` of ``p_adjusted``). The reference's own row has diff 0
    and NaN CI/p-values. Columns ``reference``, ``test``, ``correction`` and
    ``confidence`` record the settings. The ``<kind> avg`` domains (``artifact avg``) hold,
    per unit, the mean over the domains of that kind (``kinds``, ``{domain: kind}``;
    :func:`~oodcalib.benchmark.reporting.grouping.with_kind_averages`). ``names`` and
    ``domains`` (``{name: display name}``) give the order of methods and domains. In a
    loss grid every (loss, method) pair is an entrant named ``loss/method``
    (:func:`~oodcalib.benchmark.reporting.grouping.as_entrants`), and ``reference`` names one.

    Raises:
        OodcalibError: Missing columns, reference method or metrics; NaN values;
            duplicated or unmatched units (naming the method and domain).
        UnknownNameError: Unknown ``test`` or ``correction``.
    """
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    correction = check_options(test, correction)
    frame = with_kind_averages(_validate(as_entrants(results), reference, metrics), kinds)
    methods = ordered(list(frame["method"]), names)
    rows = []
    for metric in metrics:
        subset = frame[frame["metric"] == metric]
        wide = subset.pivot(index=["domain", *UNIT], columns="method", values="value")
        for domain in ordered_domains(list(subset["domain"].unique()), domains, kinds):
            for method in methods:
                pairs = _paired(wide.loc[domain], metric, domain, method, reference)
                row = {
                    "metric": metric,
                    "domain": domain,
                    "method": method,
                    "n": len(pairs),
                    "mean": pairs["value"].mean(),
                    "std": pairs["value"].std(ddof=1),
                    "diff": 0.0,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "p_value": np.nan,
                }
                if method != reference:
                    differences = (pairs["value"] - pairs["ref"]).to_numpy()
                    row["diff"] = float(differences.mean())
                    row["ci_low"], row["ci_high"] = bootstrap_ci(differences, confidence, seed=seed)
                    row["p_value"] = paired_test(pairs["value"], pairs["ref"], test)
                rows.append(row)
    table = pd.DataFrame(rows)
    table["p_adjusted"] = table["p_value"]
    if correction == "holm" and len(table):
        for _, index in table.groupby(["metric", "domain"], sort=False).groups.items():
            table.loc[index, "p_adjusted"] = holm(table.loc[index, "p_value"])
    table["mark"] = [significance_mark(p) for p in table["p_adjusted"]]
    return table.assign(
        reference=reference, test=test, correction=correction, confidence=confidence
    )


def compare_within_losses(results: pd.DataFrame, method: str = "uc", **options) -> pd.DataFrame:
    """In a loss grid, each loss's methods against ``method`` on the same loss.

    :func:`compare_to_reference` once per loss, with ``loss/method`` as that loss's
    reference, the frames stacked in the grid's loss order: does TS on top of a loss help
    or hurt that loss, per domain? Holm corrections (``correction="holm"``) run within
    each loss, metric and domain.

    Args:
        results: A loss grid's tidy results (a ``loss`` column).
        method: The method each loss's other methods are tested against.
        **options: The keyword arguments of :func:`compare_to_reference` but
            ``reference``.

    Raises:
        OodcalibError: Not a loss grid, ``method`` names a loss too, or a loss lacks
            ``method`` (from :func:`compare_to_reference`).
    """
    if not is_grid(results):
        raise OodcalibError("a per-loss comparison needs a loss grid (a run with train.losses)")
    if ENTRANT_SEP in method:
        raise OodcalibError(
            f"a per-loss reference is a method name such as 'uc', not {method!r}: "
            "each loss is compared with that method on itself"
        )
    entrants = as_entrants(results)  # named loss/method before the grid is cut by loss
    losses = list(dict.fromkeys(entrants["loss"].astype(str)))
    frames = [
        compare_to_reference(
            entrants[entrants["loss"].astype(str) == loss],
            f"{loss}{ENTRANT_SEP}{method}",
            **options,
        )
        for loss in losses
    ]
    return pd.concat(frames, ignore_index=True)
