"""Seeded patient splits and data-hungry folds, written once to JSON and read by every job.

Protocol (REFERENCE.md §1): patients are shuffled by seed and split 60/20/20 into train,
val and test pools. Fold ``k`` trains on the ``k``-th block of ``train_per_fold`` train
patients and validates (and fits calibrators) on the ``k``-th block of ``val_per_fold``
val patients. All folds share the test pool.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from oodcalib.atomic import write_json
from oodcalib.errors import OodcalibError


def make_splits(
    case_ids: list[str],
    *,
    seed: int = 0,
    n_folds: int = 3,
    train_per_fold: int = 20,
    val_per_fold: int = 5,
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
) -> dict:
    """Build the split description.

    Args:
        case_ids: All patient ids of the source domain.
        seed: Shuffling seed.
        n_folds: Number of data-hungry folds.
        train_per_fold: Training patients per fold.
        val_per_fold: Validation/calibration patients per fold.
        fractions: Train/val/test fractions of the patient pool.

    Returns:
        ``{"seed", "pools": {"train", "val", "test"}, "folds": [{"fold", "train", "val"}]}``.

    Raises:
        OodcalibError: If the pools are too small for the requested folds.

    Example:
        >>> s = make_splits([f"p{i:03d}" for i in range(100)], seed=0)
        >>> [len(s["pools"][k]) for k in ("train", "val", "test")]
        [60, 20, 20]
        >>> [(len(f["train"]), len(f["val"])) for f in s["folds"]]
        [(20, 5), (20, 5), (20, 5)]
    """
    ids = sorted(set(case_ids))
    if len(ids) != len(case_ids):
        raise OodcalibError("duplicate case ids in the source domain")
    order = np.random.default_rng(seed).permutation(len(ids))
    shuffled = [ids[i] for i in order]
    n_train = int(round(fractions[0] * len(ids)))
    n_val = int(round(fractions[1] * len(ids)))
    pools = {
        "train": shuffled[:n_train],
        "val": shuffled[n_train : n_train + n_val],
        "test": shuffled[n_train + n_val :],
    }
    if n_folds * train_per_fold > len(pools["train"]) or n_folds * val_per_fold > len(
        pools["val"]
    ) or not pools["test"]:
        raise OodcalibError(
            f"{len(ids)} patients give pools of {n_train}/{n_val}/{len(pools['test'])}, too "
            f"few for {n_folds} folds of {train_per_fold} train / {val_per_fold} val patients "
            "and a non-empty test set"
        )
    folds = [
        {
            "fold": k,
            "train": sorted(pools["train"][k * train_per_fold : (k + 1) * train_per_fold]),
            "val": sorted(pools["val"][k * val_per_fold : (k + 1) * val_per_fold]),
        }
        for k in range(n_folds)
    ]
    return {"seed": seed, "pools": {k: sorted(v) for k, v in pools.items()}, "folds": folds}


def write_splits(splits: dict, path: Path) -> None:
    """Write splits JSON (atomically)."""
    write_json(path, splits)


def read_splits(path: Path) -> dict:
    """Read splits JSON written by :func:`write_splits`."""
    if not path.exists():
        raise OodcalibError(f"{path}: splits file not found")
    return json.loads(path.read_text())
