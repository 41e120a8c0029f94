"""The leak check: no patient, and no scan, on both sides of a split.

A net must never be trained or calibrated on a scan it is then tested on. Three checks,
each an error naming the patient (or scan) and the splits:

* :func:`check_splits`: in the run's splits (``splits.json``, made or read), every patient
  (:func:`~oodcalib.datasets.splits.patient_ids`) is in one pool only, and no fold trains
  and calibrates on one patient.
* :func:`scan_digests`: a source holding the same image under two case ids (a file read
  twice through a link, or copied) is refused, whatever the split would do with it.
* :func:`check_test_scans`: a test domain (LGE, an ``eval.domains`` entry) holds no scan
  that trained or calibrated a net.

Scans are compared by content (a hash of the prepared image), so the check holds for
every source, a plugin's included, and for copies as well as links.
"""

from __future__ import annotations

import hashlib
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


def check_splits(splits: dict, pattern: str | None, where: str) -> None:
    """Refuse splits that put one patient on both sides of a split.

    A patient may be in one pool only (train, val or test); in a fold, not in both
    ``train`` and ``val``; and never both in the test pool and in a fold.

    Args:
        splits: The splits (:func:`~oodcalib.datasets.splits.make_splits`).
        pattern: ``data.patient_pattern`` (None: every case is its own patient).
        where: What the splits are, for the message (``splits.json``'s path).

    Raises:
        LeakError: Naming the patient(s) and their splits.

    Example:
        >>> bad = {"pools": {"train": ["p1_ED"], "val": [], "test": ["p1_ES"]}, "folds": []}
        >>> check_splits(bad, "^(p[0-9]+)", "splits.json")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        oodcalib.datasets.leakage.LeakError: data leak in splits.json: patient 'p1' is in ...
    """
    roles = split_roles(splits)
    every = sorted({c for ids in roles.values() for c in ids})
    patient_of = patient_ids(every, pattern)
    where_is: dict[str, list[str]] = {}
    for role, ids in roles.items():
        for patient in sorted({patient_of[c] for c in ids}):
            where_is.setdefault(patient, []).append(role)
    leaks = {p: r for p, r in where_is.items() if _leaks(r)}
    if leaks:
        shown = [f"patient {p!r} is in {_join(r)}" for p, r in list(leaks.items())[:SHOWN]]
        more = len(leaks) - SHOWN
        raise LeakError(
            f"data leak in {where}: {'; '.join(shown)}"
            + (f"; and {more} more patient(s)" if more > 0 else "")
        )


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


def scan_digests(cases: Iterable[Case], what: str) -> dict[str, str]:
    """``{case id: digest}`` of a source's cases; refuses one image under two ids.

    Args:
        cases: The cases, prepared the same way.
        what: The source, for the message (``the nifti source``).

    Raises:
        LeakError: Two case ids whose images are equal (their files are named).
    """
    digests: dict[str, str] = {}
    first: dict[str, Case] = {}
    for case in cases:
        digest = scan_digest(case)
        if digest in first:
            other = first[digest]
            raise LeakError(
                f"{what}: {other.case_id!r} ({other.source or 'no file'}) and "
                f"{case.case_id!r} ({case.source or 'no file'}) are the same scan; each scan "
                "must be in the data once, or it could be trained on and tested on"
            )
        first[digest] = case
        digests[case.case_id] = digest
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
    "split_roles",
    "trained_scans",
]
