"""Dataset-level (micro) calibration errors from the per-scan bins of the ACE paper.

Every scored scan leaves its class-wise 20-bin statistics over all voxels in
``fold<k>/per_case/<method>_r<repeat>.bins.csv.gz`` (one row per scan, class and
non-empty bin: ``count``, ``conf_sum``, ``acc_sum``). For one calibrator fit (method,
fold, repeat) and one domain, the micro versions pool those bins over the domain's scans,
as the ACE paper's code does (REFERENCE.md §2):

- ``n_m`` is summed and ``o_m`` count-weighted (``Σ acc_sum / Σ count``);
- ``e_m`` is the unweighted mean, over the scans whose bin ``m`` is not empty, of their
  ``e_m = conf_sum / count``;
- per foreground class, ``micro_ace = mean_m |o_m − e_m|`` over non-empty bins,
  ``micro_mce = max_m |o_m − e_m|``, ``micro_marginal_ece = Σ n_m |o_m − e_m| / Σ n_m``;
  then the mean over the foreground classes.

The bins merge, so no pixel is kept: memory is O(scans × classes × bins). The values
come back as tidy rows in the columns of ``results.csv`` with ``case`` = :data:`ALL_CASES`,
one per (method, fold, repeat, domain, metric): the unit of a dataset-level metric is a
calibrator fit, so significance tests pair fits, not scans.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from oodcalib.benchmark.protocol.layout import BIN_COLUMNS, RESULT_COLUMNS

#: ``case`` of a dataset-level row: every scan of the (fold, repeat, domain).
ALL_CASES = "all"
#: Dataset-level metric -> (display name, reduction over bins of one class).
DATASET_METRICS = {"micro_ace": "micro-ACE", "micro_mce": "micro-MCE",
                   "micro_marginal_ece": "micro-ECE (marginal)"}
_FIT = ["method", "fold", "repeat", "domain"]


def read_bins(run_dir: Path) -> pd.DataFrame:
    """Every per-scan bins file of a run directory (empty frame if there is none)."""
    files = sorted(Path(run_dir).glob("fold*/per_case/*.bins.csv.gz"))
    if not files:
        return pd.DataFrame(columns=BIN_COLUMNS)
    return pd.concat([pd.read_csv(f, dtype={"case": str}) for f in files], ignore_index=True)


def pooled_bins(bins: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Bins pooled over scans within each ``by`` group: ``count``, ``o`` and ``e`` per bin."""
    frame = bins.assign(e=bins["conf_sum"] / bins["count"])
    pooled = frame.groupby([*by, "class", "bin"], sort=False).agg(
        count=("count", "sum"), acc_sum=("acc_sum", "sum"), e=("e", "mean")).reset_index()
    return pooled.assign(o=pooled["acc_sum"] / pooled["count"])


def micro_results(bins: pd.DataFrame) -> pd.DataFrame:
    """Dataset-level ACE, MCE and marginal ECE per (method, fold, repeat, domain).

    Returns:
        Tidy rows in :data:`~oodcalib.benchmark.protocol.layout.RESULT_COLUMNS`, ``case``
        = :data:`ALL_CASES`, fractions.
    """
    if bins.empty:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    pooled = pooled_bins(bins[bins["class"] > 0], _FIT)
    pooled = pooled.assign(gap=(pooled["o"] - pooled["e"]).abs())
    pooled = pooled.assign(weighted=pooled["gap"] * pooled["count"])
    per_class = pooled.groupby([*_FIT, "class"], sort=False).agg(
        micro_ace=("gap", "mean"), micro_mce=("gap", "max"),
        weighted=("weighted", "sum"), count=("count", "sum")).reset_index()
    per_class["micro_marginal_ece"] = per_class["weighted"] / per_class["count"]
    per_fit = per_class.groupby(_FIT, sort=False)[list(DATASET_METRICS)].mean().reset_index()
    tidy = per_fit.melt(id_vars=_FIT, var_name="metric", value_name="value")
    return tidy.assign(case=ALL_CASES)[RESULT_COLUMNS]


def with_dataset_metrics(results: pd.DataFrame, run_dir: Path) -> pd.DataFrame:
    """``results`` plus the dataset-level rows of ``run_dir``'s bins (if it has any)."""
    micro = micro_results(read_bins(run_dir))
    if micro.empty:
        return results
    return pd.concat([results, micro.astype({"case": str})], ignore_index=True)
