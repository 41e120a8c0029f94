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

The rules are those of :class:`~oodcalib.metrics.MicroBins`, built here from the
rows of each fit. The bins merge, so no pixel is kept: memory is O(scans × classes × bins).
The values come back as tidy rows in the columns of ``results.csv`` with ``case`` =
:data:`ALL_CASES`, one per (method, fold, repeat, domain, metric): the unit of a
dataset-level metric is a calibrator fit, so significance tests pair fits, not scans.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from oodcalib.benchmark.layout import (
    BIN_COLUMNS,
    RESULT_COLUMNS,
    fold_files,
    run_loss,
    with_loss,
)
from oodcalib.metrics import MicroBins
from oodcalib.metrics.marginal import MARGINAL_BINS

#: ``case`` of a dataset-level row: every scan of the (fold, repeat, domain).
ALL_CASES = "all"
#: Dataset-level metric -> display name.
DATASET_METRICS = {
    "micro_ace": "micro-ACE",
    "micro_mce": "micro-MCE",
    "micro_marginal_ece": "micro-ECE (marginal)",
}
_FIT = ["loss", "method", "fold", "repeat", "domain"]


def read_bins(run_dir: Path) -> pd.DataFrame:
    """Every per-scan bins file of a run directory (empty frame if there is none)."""
    files = fold_files(run_dir, "per_case/*.bins.csv.gz")
    if not files:
        return pd.DataFrame(columns=BIN_COLUMNS)
    frames = [pd.read_csv(f, dtype={"case": str}) for f in files]
    if any("loss" not in f.columns for f in frames):
        frames = [with_loss(f, run_loss(run_dir)) for f in frames]
    return pd.concat(frames, ignore_index=True)[BIN_COLUMNS]


def fit_micro_bins(rows: pd.DataFrame, classes: int, n_bins: int = MARGINAL_BINS) -> MicroBins:
    """The :class:`~oodcalib.metrics.MicroBins` of one fit's per-scan bin rows.

    Each row is one scan's non-empty bin, so summing its count, ``acc_sum``, its own
    ``e_m = conf_sum / count`` and a 1 per row into the (class, bin) cells is the sum of
    the scans' ``MicroBins.from_scan``.
    """
    shape = (classes, n_bins)
    cells = (rows["class"].to_numpy(), rows["bin"].to_numpy())
    fields = {
        "counts": rows["count"],
        "acc_sum": rows["acc_sum"],
        "e_sum": rows["conf_sum"] / rows["count"],
        "scans": np.ones(len(rows)),
    }
    sums = {}
    for name, values in fields.items():
        sums[name] = np.zeros(shape, np.float64 if name == "e_sum" else np.int64)
        np.add.at(sums[name], cells, np.asarray(values))
    return MicroBins(**sums)


def micro_results(bins: pd.DataFrame) -> pd.DataFrame:
    """Dataset-level ACE, MCE and marginal ECE per (loss, method, fold, repeat, domain).

    Returns:
        Tidy rows in :data:`~oodcalib.benchmark.layout.RESULT_COLUMNS`, ``case``
        = :data:`ALL_CASES`, fractions.
    """
    if bins.empty:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    bins = with_loss(bins, "dice_ce")
    classes = int(bins["class"].max()) + 1
    rows = []
    for key, group in bins.groupby(_FIT, sort=False):
        micro = fit_micro_bins(group, classes)
        rows += [
            (*key, ALL_CASES, name, value)
            for name, value in zip(
                DATASET_METRICS, (micro.ace(), micro.mce(), micro.ece()), strict=True
            )
        ]
    return pd.DataFrame(rows, columns=[*_FIT, "case", "metric", "value"])[RESULT_COLUMNS]


def with_dataset_metrics(results: pd.DataFrame, run_dir: Path) -> pd.DataFrame:
    """``results`` plus the dataset-level rows of ``run_dir``'s bins (if it has any)."""
    micro = micro_results(read_bins(run_dir))
    if micro.empty:
        return results
    return pd.concat([results, micro.astype({"case": str})], ignore_index=True)
