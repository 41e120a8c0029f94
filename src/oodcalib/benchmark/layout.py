"""The run directory: every path the protocol writes, and the names of the fixed domains.

Layout of ``run_dir``::

    config.json, environment.json, splits.json
    corrupted/<artifact>-s<severity>-seed<seed>/<case>.npz (+ .json)
    fold<k>/checkpoint.pt, train_log.csv, forward_passes.json
    fold<k>/logits/<domain>/<case>.npy
    fold<k>/passes/<domain>/<case>/n<N>.npz
    fold<k>/calibrators/<method>_r<repeat>.pt
    fold<k>/per_case/<method>_r<repeat>.csv (+ .json, .bins.csv.gz)
    fold<k>/per_case/<method>_r<repeat>@<domain>.csv   (an extra test domain, the same)
    domains/<domain>/prepared.joblib, spec.json           (an extra test domain's scans)
    ablation/<kind>/per_case/fold<k>/<method>_<setting>_r<repeat>.csv
    ablation/loss_param/<loss>.<name>=<value>/fold<k>/...   (a cell, as below)
    results.csv, summary.csv, leaderboard.csv (+ .md, _stats.csv)

A run with a loss grid (``train.losses``) has one such ``fold<k>/`` per loss, a *cell*:
``losses/<loss>/fold<k>/``. A single-loss run keeps ``fold<k>/`` at the top.

This module imports nothing heavy, so reporting code may use it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: The intra-domain test set (test patients of the training source).
CLEAN = "clean"
#: The calibration scans (validation patients of each fold).
CALIBRATION = "val"
#: The cross-sequence test set.
LGE = "lge"
#: Joins a loss and a method into the name of a loss grid's entrant (``nacl/ts``).
ENTRANT_SEP = "/"


def file_label(method: str) -> str:
    """File-name form of a method name (plugin paths ``pkg.mod:Class`` contain ``:``)."""
    return method.replace(":", ".")


def fold_dir(run_dir: Path, fold: int, loss: str | None = None) -> Path:
    """``run_dir/fold<k>``, or the cell ``run_dir/losses/<loss>/fold<k>`` of a loss grid.

    Example:
        >>> fold_dir(Path("run"), 2, "nacl").as_posix()
        'run/losses/nacl/fold2'
    """
    base = Path(run_dir) if loss is None else Path(run_dir) / "losses" / loss
    return base / f"fold{fold}"


def fold_files(run_dir: Path, pattern: str) -> list[Path]:
    """Files matching ``pattern`` inside every fold (and every cell) of a run, sorted.

    Example:
        >>> fold_files(Path("no-such-run"), "per_case/*.csv")
        []
    """
    run_dir = Path(run_dir)
    return sorted([*run_dir.glob(f"fold*/{pattern}"), *run_dir.glob(f"losses/*/fold*/{pattern}")])


def checkpoint_path(fold_directory: Path) -> Path:
    """Best segmentation checkpoint of a fold."""
    return Path(fold_directory) / "checkpoint.pt"


def calibrator_path(fold_directory: Path, label: str, repeat: int) -> Path:
    """Saved fit of calibrator ``label`` (a :func:`file_label`), repeat ``repeat``."""
    return Path(fold_directory) / "calibrators" / f"{label}_r{repeat}.pt"


def per_case_path(fold_directory: Path, label: str, repeat: int, domain: str | None = None) -> Path:
    """Per-case results of calibrator ``label``, repeat ``repeat``.

    The built-in domains share one file; an extra test domain (``eval.domains``) has its
    own, ``<label>_r<repeat>@<domain>.csv``, so a finished run can gain domains.

    Example:
        >>> per_case_path(Path("fold0"), "ts", 1, "mnms").as_posix()
        'fold0/per_case/ts_r1@mnms.csv'
    """
    suffix = f"@{domain}" if domain else ""
    return Path(fold_directory) / "per_case" / f"{label}_r{repeat}{suffix}.csv"


def domain_groups(builtin: dict | None, extra: dict) -> dict[str | None, dict]:
    """The scored domains by per-case file: ``{None: builtin, name: {name: cases}, ...}``.

    The built-in domains share a file (key None, left out when ``builtin`` is None);
    each extra domain has its own (:func:`per_case_path`).

    Example:
        >>> domain_groups({"clean": [1]}, {"v": [2]})
        {None: {'clean': [1]}, 'v': {'v': [2]}}
    """
    groups: dict[str | None, dict] = {} if builtin is None else {None: builtin}
    return {**groups, **{name: {name: cases} for name, cases in extra.items()}}


def ablation_cell_dir(run_dir: Path, kind: str, fold: int, loss: str | None = None) -> Path:
    """Per-case files of one cell in an ablation: ``ablation/<kind>/per_case/[<loss>/]fold<k>``.

    ``loss`` is given in a loss grid only, as for :func:`fold_dir`.

    Example:
        >>> ablation_cell_dir(Path("run"), "severity", 1, "ce").as_posix()
        'run/ablation/severity/per_case/ce/fold1'
    """
    base = ablation_dir(run_dir, kind) / "per_case"
    return (base if loss is None else base / loss) / f"fold{fold}"


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
RESULT_COLUMNS = ["loss", "method", "fold", "repeat", "domain", "case", "metric", "value"]
#: The matched unit of a (loss, method, domain, metric): one scan of one calibrator fit.
UNIT = ["fold", "repeat", "case"]
#: Columns of the per-scan marginal bins (``<method>_r<repeat>.bins.csv.gz``): one row per
#: scan, class and non-empty bin of the ACE paper's 20 bins.
BIN_COLUMNS = [
    "loss",
    "method",
    "fold",
    "repeat",
    "domain",
    "case",
    "class",
    "bin",
    "count",
    "conf_sum",
    "acc_sum",
]


def read_per_case(path: Path) -> pd.DataFrame:
    """Read a per-case results file, checking it is whole.

    Raises:
        ValueError: Unreadable, without the result columns, empty, or with missing keys
            or values (a file cut mid-row).
    """
    import pandas as pd

    with open(path, "rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(size - 1, 0))
        if handle.read(1) != b"\n":
            raise ValueError("cut short: it does not end with a whole row")
    frame = pd.read_csv(path, dtype={"case": str})
    keys = [c for c in RESULT_COLUMNS if c not in ("loss", "value")]
    missing = sorted(set(keys + ["value"]) - set(frame.columns))
    if missing:
        raise ValueError(f"no column(s) {', '.join(missing)}")
    if frame.empty or frame[keys].isna().any().any():
        raise ValueError("empty, or rows without their keys")
    if not pd.api.types.is_numeric_dtype(frame["value"]):
        raise ValueError("non-numeric values")
    per_scan = frame.groupby(["domain", "case"])["metric"].nunique()
    if per_scan.nunique() > 1:
        raise ValueError("some scans lack metrics (rows cut short)")
    return frame


def run_loss(run_dir: Path) -> str:
    """The training loss of a single-loss run (``dice_ce`` without a ``config.json``)."""
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        return "dice_ce"
    return json.loads(path.read_text()).get("train", {}).get("loss", "dice_ce")


def with_loss(frame: pd.DataFrame, loss: str) -> pd.DataFrame:
    """``frame`` with a ``loss`` column first, filled with ``loss`` where it is absent.

    Per-case and bins files written before the loss grid have no ``loss`` column; their
    run's one loss is filled in.
    """
    if "loss" in frame.columns:
        return frame
    return frame.assign(loss=loss)[["loss", *frame.columns]]
