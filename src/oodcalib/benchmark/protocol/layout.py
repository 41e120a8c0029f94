"""The run directory: every path the protocol writes, and the names of the fixed domains.

Layout of ``run_dir``::

    config.json, environment.json, splits.json
    corrupted/<artifact>-s<severity>-seed<seed>/<case>.npz (+ .json)
    fold<k>/checkpoint.pt, train_log.csv, forward_passes.json
    fold<k>/logits/<domain>/<case>.npy
    fold<k>/passes/<domain>/<case>/n<N>.npz
    fold<k>/calibrators/<method>_r<repeat>.pt
    fold<k>/per_case/<method>_r<repeat>.csv (+ .json, .bins.csv.gz)
    ablation/<kind>/per_case/fold<k>/<method>_<setting>_r<repeat>.csv
    results.csv, summary.csv, leaderboard.csv (+ .md, _stats.csv)

This module imports nothing heavy, so reporting code may use it.
"""

from __future__ import annotations

from pathlib import Path

#: The intra-domain test set (test patients of the training source).
CLEAN = "clean"
#: The calibration scans (validation patients of each fold).
CALIBRATION = "val"
#: The cross-sequence test set.
LGE = "lge"
#: Table headers of the fixed domains (artifact headers come from ``CORRUPTIONS``).
DOMAIN_HEADERS = {CLEAN: "Intra", LGE: "Cross-seq (LGE)"}


def file_label(method: str) -> str:
    """File-name form of a method name (plugin paths ``pkg.mod:Class`` contain ``:``)."""
    return method.replace(":", ".")


def fold_dir(run_dir: Path, fold: int) -> Path:
    """``run_dir/fold<k>``."""
    return Path(run_dir) / f"fold{fold}"


def checkpoint_path(fold_directory: Path) -> Path:
    """Best segmentation checkpoint of a fold."""
    return Path(fold_directory) / "checkpoint.pt"


def calibrator_path(fold_directory: Path, label: str, repeat: int) -> Path:
    """Saved fit of calibrator ``label`` (a :func:`file_label`), repeat ``repeat``."""
    return Path(fold_directory) / "calibrators" / f"{label}_r{repeat}.pt"


def per_case_path(fold_directory: Path, label: str, repeat: int) -> Path:
    """Per-case results of calibrator ``label``, repeat ``repeat``."""
    return Path(fold_directory) / "per_case" / f"{label}_r{repeat}.csv"


def bins_path(per_case: Path) -> Path:
    """Per-scan marginal bins beside a per-case results file (``<stem>.bins.csv.gz``)."""
    return Path(per_case).with_suffix(".bins.csv.gz")


def prepared_path(run_dir: Path) -> Path:
    """The run's prepared (normalised, split and corrupted) cases, written once."""
    return Path(run_dir) / "prepared.joblib"


def ablation_dir(run_dir: Path, kind: str) -> Path:
    """Outputs of one ablation (``num_aug`` or ``components``)."""
    return Path(run_dir) / "ablation" / kind


#: Columns of the tidy per-case results (``results.csv``): one row per observation.
RESULT_COLUMNS = ["method", "fold", "repeat", "domain", "case", "metric", "value"]
#: The matched unit of a (method, domain, metric): one scan of one calibrator fit.
UNIT = ["fold", "repeat", "case"]
#: Columns of the per-scan marginal bins (``<method>_r<repeat>.bins.csv.gz``): one row per
#: scan, class and non-empty bin of the ACE paper's 20 bins.
BIN_COLUMNS = ["method", "fold", "repeat", "domain", "case", "class", "bin", "count",
               "conf_sum", "acc_sum"]
