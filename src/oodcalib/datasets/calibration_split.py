"""The calibration patients of networks that oodcalib did not train (``data.calibration``).

A foreign network (``--model``) brings no training split: the user names the patients
its calibrators are fitted on, in one of two files.

- A **patient list**: one case or patient id a line (``#`` starts a comment). Every
  network (fold) calibrates on them; every other case of the source is a test case.
- A **split file** in the layout of a run's ``splits.json``
  (:func:`~oodcalib.datasets.splits.read_splits`): one entry of ``folds`` per network,
  its ``val`` cases calibrate that network (``train`` is ignored), and
  ``pools.test`` holds the test cases. A finished run's ``splits.json`` is one, so a
  network exported from that run meets the same patients.
"""

from __future__ import annotations

import json
from pathlib import Path

from oodcalib.datasets.splits import patient_ids, read_splits
from oodcalib.errors import DataError


def calibration_splits(
    path: str | Path, case_ids: list[str], n_folds: int, pattern: str | None = None
) -> dict:
    r"""The run's splits (``splits.json`` layout) from a patient list or a split file.

    Args:
        path: The patient list or split file.
        case_ids: Every case id of the source.
        n_folds: Number of networks (one fold each).
        pattern: ``data.patient_pattern``: a list may name patients instead of cases.

    Returns:
        ``{"seed", "pools": {"train", "val", "test"}, "folds": [{"fold", "train", "val"}]}``.

    Raises:
        DataError: The file is missing or unreadable, names unknown cases, has another
            number of folds than networks, or lets a test case calibrate (naming the file).

    Example:
        >>> import tempfile
        >>> f = Path(tempfile.mkdtemp()) / "calibration.txt"
        >>> _ = f.write_text("p1  # a comment\np3\n")
        >>> s = calibration_splits(f, ["p1", "p2", "p3", "p4"], n_folds=2)
        >>> s["folds"][1]["val"], s["pools"]["test"]
        (['p1', 'p3'], ['p2', 'p4'])
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "calibration patients file not found (data.calibration)")
    if path.suffix == ".json":
        splits = _split_file(path, set(case_ids), n_folds)
    else:
        calibration = _patient_list(path, case_ids, pattern)
        test = [c for c in sorted(case_ids) if c not in set(calibration)]
        splits = {
            "seed": None,
            "pools": {"train": [], "val": calibration, "test": test},
            "folds": [{"fold": k, "train": [], "val": calibration} for k in range(n_folds)],
        }
    if not splits["pools"]["test"]:
        raise DataError(path, "no test cases are left once the calibration cases are taken")
    return splits


def _patient_list(path: Path, case_ids: list[str], pattern: str | None) -> list[str]:
    try:
        names = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(path, f"cannot read the patient list ({error})") from None
    names = [n for n in names if n]
    if not names:
        raise DataError(path, "the patient list names no patient")
    patient_of = patient_ids(case_ids, pattern)
    unknown = sorted(n for n in names if n not in patient_of and n not in patient_of.values())
    if unknown:
        raise DataError(path, f"names cases not in the data: {', '.join(unknown[:5])}")
    chosen = set(names)
    return sorted(c for c in case_ids if c in chosen or patient_of[c] in chosen)


def _split_file(path: Path, case_ids: set[str], n_folds: int) -> dict:
    try:
        json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise DataError(path, f"not a JSON split file ({error})") from None
    splits = read_splits(path)
    folds = splits["folds"]
    if len(folds) != n_folds:
        raise DataError(
            path,
            f"holds {len(folds)} folds but {n_folds} networks were given (--model); give "
            "one network per fold",
        )
    if [f["fold"] for f in folds] != list(range(n_folds)):
        raise DataError(path, "its folds must be numbered 0, 1, ... in order (one per --model)")
    named = {c for f in folds for c in f["val"]} | set(splits["pools"]["test"])
    missing = sorted(named - case_ids)
    if missing:
        raise DataError(path, f"names cases not in the data: {', '.join(missing[:5])}")
    for fold in folds:
        if not fold["val"]:
            raise DataError(path, f"fold {fold['fold']} has no calibration (val) cases")
        both = sorted(set(fold["val"]) & set(splits["pools"]["test"]))
        if both:
            raise DataError(
                path, f"fold {fold['fold']} calibrates on test cases: {', '.join(both[:5])}"
            )
    return splits
