"""The leak check: no patient, and no scan, on both sides of a split.

A net must never be trained or calibrated on a scan it is then tested on. The checks,
each an error naming the patient (or scan) and the splits:

* :func:`check_splits`: in the run's splits (``splits.json``, made or read), every patient
  is in one pool only, and no fold trains and calibrates on one patient. A patient is
  what :func:`~oodcalib.datasets.splits.patient_ids` finds in a case id, and the scans
  of a source that hold the same image (a file copied, or a data set's own duplicate:
  ACDC's SSL4MIS volumes give patient074 the ES image of patient076) count as one
  patient (:func:`source_patients`), so new splits keep them together (with a warning)
  and a recorded split that parts them is refused.
* :func:`check_test_scans`: a test domain (LGE, an ``eval.domains`` entry) holds no scan
  that trained or calibrated a net.

Scans are compared by content (a hash of the prepared image), so the check holds for
every source, a plugin's included, and for copies as well as links.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterable, Mapping

import numpy as np

from oodcalib.datasets.case import Case
from oodcalib.datasets.splits import patient_ids
from oodcalib.errors import OodcalibError

#: Roles shown at most in one message; the others are counted.
SHOWN = 3


class LeakError(OodcalibError):
    """A patient or a scan on both sides of a split."""


def split_roles(splits: dict) -> dict[str, list[str]]:
    """``{role: case ids}``: the three pools and every fold's ``train`` and ``val``.

    Example:
        >>> roles = split_roles({"pools": {"train": ["a"], "val": ["b"], "test": ["c"]},
        ...                      "folds": [{"fold": 0, "train": ["a"], "val": ["b"]}]})
        >>> list(roles)
        ['train pool', 'val pool', 'test pool', 'fold 0 train', 'fold 0 val']
    """
    roles = {f"{name} pool": list(splits["pools"].get(name, [])) for name in ("train", "val")}
    roles["test pool"] = list(splits["pools"]["test"])
    for fold in splits["folds"]:
        roles[f"fold {fold['fold']} train"] = list(fold["train"])
        roles[f"fold {fold['fold']} val"] = list(fold["val"])
    return roles


def check_splits(
    splits: dict,
    patient_of: Mapping[str, str],
    where: str,
    twins: Iterable[list[str]] = (),
) -> None:
    """Refuse splits that put one patient on both sides of a split.

    A patient may be in one pool only (train, val or test); in a fold, not in both
    ``train`` and ``val``; and never both in the test pool and in a fold.

    Args:
        splits: The splits (:func:`~oodcalib.datasets.splits.make_splits`).
        patient_of: The patient of each case id (:func:`source_patients`); a case it does
            not hold is its own patient.
        where: What the splits are, for the message (``splits.json``'s path).
        twins: Groups of case ids with one image (:func:`twin_scans`), named in the
            message of the patient they make.

    Raises:
        LeakError: Naming the patient(s) and their splits.

    Example:
        >>> bad = {"pools": {"train": ["p1_ED"], "val": [], "test": ["p1_ES"]}, "folds": []}
        >>> check_splits(bad, {"p1_ED": "p1", "p1_ES": "p1"}, "splits.json")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        oodcalib.datasets.leakage.LeakError: data leak in splits.json: patient 'p1' is in ...
    """
    where_is: dict[str, list[str]] = {}
    for role, ids in split_roles(splits).items():
        for patient in sorted({patient_of.get(c, c) for c in ids}):
            where_is.setdefault(patient, []).append(role)
    leaks = {p: r for p, r in where_is.items() if _leaks(r)}
    if leaks:
        groups = list(twins)
        shown = [
            f"patient {p!r}{_twins(p, groups, patient_of)} is in {_join(r)}"
            for p, r in list(leaks.items())[:SHOWN]
        ]
        more = len(leaks) - SHOWN
        raise LeakError(
            f"data leak in {where}: {'; '.join(shown)}"
            + (f"; and {more} more patient(s)" if more > 0 else "")
        )


def _twins(patient: str, groups: list[list[str]], patient_of: Mapping[str, str]) -> str:
    """`` ('a' = 'b': the same scan)`` for the twin scans that make up ``patient``."""
    mine = [g for g in groups if patient_of.get(g[0], g[0]) == patient]
    return "".join(f" ({' = '.join(map(repr, g))}: the same scan)" for g in mine)


def source_patients(
    case_ids: Iterable[str], pattern: str | None, digests: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The patient of each source case: by ``pattern``, scans of one image joined.

    Cases whose images are equal (same digest) get one patient, the first of theirs in
    sorted order, so no split can part them.

    Example:
        >>> source_patients(["a_ED", "b_ED", "c_ED"], "^([a-z])_", {"a_ED": "1", "b_ED": "2",
        ...                                                        "c_ED": "1"})
        {'a_ED': 'a', 'b_ED': 'b', 'c_ED': 'a'}
    """
    ids = sorted(case_ids)
    patient_of = patient_ids(ids, pattern)
    first: dict[str, str] = {}
    for case_id in ids:
        digest = (digests or {}).get(case_id)
        if digest is None:
            continue
        if digest in first:
            patient_of[case_id] = patient_of[first[digest]]
        else:
            first[digest] = case_id
    return patient_of


def twin_scans(digests: Mapping[str, str]) -> list[list[str]]:
    """Groups of case ids whose images are equal (each sorted; groups of two or more).

    Example:
        >>> twin_scans({"a": "1", "b": "2", "c": "1"})
        [['a', 'c']]
    """
    groups: dict[str, list[str]] = {}
    for case_id, digest in sorted(digests.items()):
        groups.setdefault(digest, []).append(case_id)
    return [g for g in groups.values() if len(g) > 1]


def _leaks(roles: list[str]) -> bool:
    pools = [r for r in roles if r.endswith(" pool")]
    if len(pools) > 1:
        return True
    folds = [r for r in roles if r.startswith("fold ")]
    if "test pool" in roles and folds:
        return True
    indices = [r.rsplit(" ", 1)[0] for r in folds]
    return len(indices) != len(set(indices))  # a fold's train and val


def _join(roles: list[str]) -> str:
    named = [f"the {r}" if r.endswith(" pool") else r for r in roles]
    return ", ".join(named[:-1]) + " and " + named[-1] if len(named) > 1 else named[0]


def scan_digest(case: Case) -> str:
    """A hash of the case's image (shape, type and values): equal for equal scans.

    Example:
        >>> image = np.zeros((1, 2, 2), np.float32)
        >>> a, b = Case("a", image, None, "x"), Case("b", image.copy(), None, "y")
        >>> scan_digest(a) == scan_digest(b)
        True
    """
    image = np.ascontiguousarray(case.image)
    digest = hashlib.blake2b(f"{image.shape}{image.dtype}".encode(), digest_size=16)
    digest.update(image.tobytes())
    return digest.hexdigest()


def scan_digests(cases: Iterable[Case], what: str = "the source") -> dict[str, str]:
    """``{case id: digest}`` of a source's cases; warns about scans found twice.

    Args:
        cases: The cases, prepared the same way.
        what: The source, for the warning (``the nifti source``).
    """
    cases = list(cases)
    digests = {case.case_id: scan_digest(case) for case in cases}
    groups = twin_scans(digests)
    if groups:
        files = {c.case_id: c.source or "no file" for c in cases}
        shown = "; ".join(
            " = ".join(f"{c!r} ({files[c]})" for c in group) for group in groups[:SHOWN]
        )
        warnings.warn(
            f"{what} holds {len(groups)} scan(s) under several case ids: {shown}; each "
            "group counts as one patient and stays in one split (no leak)",
            UserWarning,
            stacklevel=2,
        )
    return digests


def check_test_scans(
    cases: Iterable[Case], trained: Mapping[str, str], domain: str, hint: str = ""
) -> None:
    """Refuse a test domain holding a scan that trained or calibrated a net.

    Args:
        cases: The domain's cases, prepared like the source.
        trained: ``{digest: description}`` of the scans that trained or calibrated a
            net (:func:`trained_scans`).
        domain: The domain's name.
        hint: What to do about it, appended to the message.

    Raises:
        LeakError: Naming the scan, the source case and its split.
    """
    for case in cases:
        seen = trained.get(scan_digest(case))
        if seen is not None:
            raise LeakError(
                f"data leak: test domain {domain!r} holds {case.case_id!r} "
                f"({case.source or 'no file'}), the same scan as {seen}{hint}"
            )


def trained_scans(digests: Mapping[str, str], splits: dict) -> dict[str, str]:
    """``{digest: "case (fold k train, ...)"}`` of the source scans that trained or calibrated.

    Example:
        >>> splits = {"pools": {"test": ["c"]},
        ...           "folds": [{"fold": 0, "train": ["a"], "val": ["b"]}]}
        >>> trained_scans({"a": "1", "b": "2", "c": "3"}, splits)
        {'1': "source case 'a' (fold 0 train)", '2': "source case 'b' (fold 0 val)"}
    """
    roles: dict[str, list[str]] = {}
    for fold in splits["folds"]:
        for part in ("train", "val"):
            for case_id in fold[part]:
                roles.setdefault(case_id, []).append(f"fold {fold['fold']} {part}")
    return {
        digests[c]: f"source case {c!r} ({', '.join(r)})" for c, r in roles.items() if c in digests
    }


__all__ = [
    "LeakError",
    "check_splits",
    "check_test_scans",
    "scan_digest",
    "scan_digests",
    "source_patients",
    "split_roles",
    "trained_scans",
    "twin_scans",
]
