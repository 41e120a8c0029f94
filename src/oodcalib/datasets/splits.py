"""Seeded patient splits and data-hungry folds, written once to JSON and read by every job.

Protocol (REFERENCE.md §1): patients are shuffled by seed and split 60/20/20 into train,
val and test pools. Fold ``k`` trains on the ``k``-th block of ``train_per_fold`` train
patients and validates (and fits calibrators) on the ``k``-th block of ``val_per_fold``
val patients. All folds share the test pool.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from oodcalib.atomic import write_json
from oodcalib.errors import DataError, OodcalibError


def patient_ids(case_ids: list[str], pattern: str | None) -> dict[str, str]:
    """The patient of each case: the first group (or the match) of ``pattern`` in its id.

    With no pattern every case is its own patient.

    Raises:
        OodcalibError: A case id the pattern does not match, or a bad regex (naming the
            key ``data.patient_pattern``).

    Example:
        >>> patient_ids(["A0S9_ED", "A0S9_ES", "B1_ED"], r"^([^_]+)")
        {'A0S9_ED': 'A0S9', 'A0S9_ES': 'A0S9', 'B1_ED': 'B1'}
    """
    if not pattern:
        return {c: c for c in case_ids}
    try:
        regex = re.compile(pattern)
    except re.error as error:
        raise OodcalibError(
            f"data.patient_pattern {pattern!r} is not a valid regular expression ({error})"
        ) from error
    found = {}
    for case_id in case_ids:
        match = regex.search(case_id)
        if match is None:
            raise OodcalibError(
                f"data.patient_pattern {pattern!r} does not match case id "
                f"{case_id!r}; it must find the patient id in every case id"
            )
        found[case_id] = match.group(1) if regex.groups else match.group(0)
    return found


def make_splits(
    case_ids: list[str],
    *,
    seed: int = 0,
    n_folds: int = 3,
    train_per_fold: int = 20,
    val_per_fold: int = 5,
    fractions: Sequence[float] = (0.6, 0.2, 0.2),
    patients: dict[str, str] | None = None,
) -> dict:
    """Build the split description: patients, never files, are drawn into the pools.

    Args:
        case_ids: All case ids of the source domain.
        seed: Shuffling seed.
        n_folds: Number of data-hungry folds.
        train_per_fold: Training patients per fold.
        val_per_fold: Validation/calibration patients per fold.
        fractions: Train/val/test fractions of the patients (three, checked). The train
            and val pools are raised to what the folds draw (``n_folds`` times the
            per-fold counts) at the test pool's expense, which must keep one patient.
        patients: The patient of each case (:func:`patient_ids`); every case of one
            patient lands in the same pool and fold. Default: one patient per case.

    Returns:
        ``{"seed", "pools": {"train", "val", "test"}, "folds": [{"fold", "train", "val"}]}``,
        lists of case ids.

    Raises:
        OodcalibError: Bad counts or fractions, or pools too small for the folds; the
            message names the ``data.*`` keys to change.

    Example:
        >>> s = make_splits([f"p{i:03d}" for i in range(100)], seed=0)
        >>> [len(s["pools"][k]) for k in ("train", "val", "test")]
        [60, 20, 20]
        >>> [(len(f["train"]), len(f["val"])) for f in s["folds"]]
        [(20, 5), (20, 5), (20, 5)]
        >>> s = make_splits([f"p{i:03d}" for i in range(99)], seed=0)
        >>> [len(s["pools"][k]) for k in ("train", "val", "test")]
        [60, 20, 19]
    """
    ids = sorted(set(case_ids))
    if len(ids) != len(case_ids):
        raise OodcalibError("duplicate case ids in the source domain")
    _check_counts(n_folds, train_per_fold, val_per_fold, fractions)
    patient_of = patients or {c: c for c in ids}
    people = sorted({patient_of[c] for c in ids})
    order = np.random.default_rng(seed).permutation(len(people))
    shuffled = [people[i] for i in order]
    # the fractions set the pools, raised to what the folds draw (taken from the test
    # pool): 99 patients give 60/20/19 for 3 folds of 20/5, not 59/20/20 and an error
    n_train = max(int(round(fractions[0] * len(people))), n_folds * train_per_fold)
    n_val = max(int(round(fractions[1] * len(people))), n_folds * val_per_fold)
    pools = {
        "train": shuffled[:n_train],
        "val": shuffled[n_train : n_train + n_val],
        "test": shuffled[n_train + n_val :],
    }
    if (
        n_folds * train_per_fold > len(pools["train"])
        or n_folds * val_per_fold > len(pools["val"])
        or not pools["test"]
    ):
        raise OodcalibError(
            f"{len(people)} patients give pools of {len(pools['train'])}/{len(pools['val'])}/"
            f"{len(pools['test'])} "
            f"(data.split_fractions={tuple(fractions)}), too few for data.n_folds={n_folds} "
            f"folds of data.train_per_fold={train_per_fold} train / "
            f"data.val_per_fold={val_per_fold} val patients and a non-empty test set; "
            "lower those counts (--set data.train_per_fold=...) or change the fractions"
        )

    def cases(group: list[str]) -> list[str]:
        chosen = set(group)
        return sorted(c for c in ids if patient_of[c] in chosen)

    folds = [
        {
            "fold": k,
            "train": cases(pools["train"][k * train_per_fold : (k + 1) * train_per_fold]),
            "val": cases(pools["val"][k * val_per_fold : (k + 1) * val_per_fold]),
        }
        for k in range(n_folds)
    ]
    return {"seed": seed, "pools": {k: cases(v) for k, v in pools.items()}, "folds": folds}


def _check_counts(
    n_folds: int, train_per_fold: int, val_per_fold: int, fractions: Sequence[float]
) -> None:
    for key, value in (
        ("n_folds", n_folds),
        ("train_per_fold", train_per_fold),
        ("val_per_fold", val_per_fold),
    ):
        if not isinstance(value, int) or value < 1:
            raise OodcalibError(f"data.{key} must be a whole number >= 1, got {value!r}")
    if (
        len(fractions) != 3
        or any(not 0 <= f <= 1 for f in fractions)
        or abs(sum(fractions) - 1) > 1e-6
    ):
        raise OodcalibError(
            f"data.split_fractions must be three train/val/test fractions "
            f"in [0, 1] that sum to 1, got {tuple(fractions)}"
        )


def write_splits(splits: dict, path: Path) -> None:
    """Write splits JSON (atomically)."""
    write_json(path, splits)


def read_splits(path: Path) -> dict:
    """Read splits JSON written by :func:`write_splits`."""
    if not path.exists():
        raise OodcalibError(f"{path}: splits file not found")
    try:
        splits = json.loads(path.read_text())
        if not isinstance(splits, dict) or not {"pools", "folds"} <= set(splits):
            raise ValueError("no pools or folds")
        for fold in splits["folds"]:
            if not {"fold", "train", "val"} <= set(fold):
                raise ValueError("a fold without fold, train or val")
        splits["pools"]["test"]  # noqa: B018 - its presence is checked
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DataError(
            path,
            f"damaged splits ({error}); the splits are the record of "
            "the run, so restore the file or start another run "
            "directory",
        ) from None
    return splits
