"""Do the labels look like a heart? Catching RV/MYO/LV codes loaded in another convention.

On mid-ventricular short-axis slices the LV blood pool is enclosed by the myocardium,
and the RV touches the myocardium from outside. For a labelled case the three classes
are scored under each of the six ways to assign them to RV, MYO and LV::

    score = enclosed(LV by MYO) − enclosed(RV by MYO) + touches(RV, MYO)

where ``enclosed(X by Y)`` is the share of the one-pixel ring around ``X`` (its outer
boundary, 4-connected: scikit-image's ``find_boundaries(mode="outer")``) that is ``Y``
(mean over the slices holding all three classes, middle third). When another assignment
beats the loaded one by :data:`MARGIN`, the classes look swapped and the check names the
``data.label_map`` that fixes it. A set in the package's convention (1 RV, 2 MYO, 3 LV)
loaded without a label map in another (1 LV, 3 RV) is the common case.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from itertools import permutations

import numpy as np
from skimage.segmentation import find_boundaries

from oodcalib.datasets.case import Case
from oodcalib.errors import OodcalibError

#: A swap is reported when another assignment scores this much better.
MARGIN = 0.3
RV, MYO, LV = 1, 2, 3


@dataclass(frozen=True)
class Plausibility:
    """The verdict on one case: its score and the best assignment of the classes."""

    case_id: str
    score: float  #: score of the loaded classes (about 1.5 for a typical heart)
    best: tuple[int, int, int]  #: loaded codes that look like (RV, MYO, LV)
    best_score: float
    slices: int  #: mid-ventricular slices used

    @property
    def swapped(self) -> bool:
        """Whether another assignment of the classes looks clearly more like a heart."""
        return self.best != (RV, MYO, LV) and self.best_score - self.score > MARGIN

    def fixed_label_map(self, label_map: dict[int, int] | None = None) -> dict[int, int]:
        """The raw-code map that loads this case's classes the right way round.

        Example:
            >>> p = Plausibility("a", 0.1, (3, 2, 1), 1.6, 4)
            >>> p.fixed_label_map()  # loaded class 3 is the RV, class 1 the LV
            {1: 3, 2: 2, 3: 1}
        """
        current = label_map or {RV: RV, MYO: MYO, LV: LV}
        actual = {loaded: true for loaded, true in zip(self.best, (RV, MYO, LV), strict=True)}
        return {raw: actual.get(cls, cls) for raw, cls in current.items()}


def _slice_scores(label: np.ndarray) -> dict[tuple[int, int, int], float]:
    """Score of every assignment on one slice (rings computed once, on the heart's box)."""
    rows, cols = np.nonzero(label)
    box = label[max(rows.min() - 2, 0) : rows.max() + 3, max(cols.min() - 2, 0) : cols.max() + 3]
    masks = {c: box == c for c in (RV, MYO, LV)}
    rings = {c: find_boundaries(m, mode="outer") for c, m in masks.items()}
    share = {
        (x, y): float((rings[x] & masks[y]).sum() / max(rings[x].sum(), 1))
        for x in masks
        for y in masks
        if x != y
    }
    return {
        (rv, myo, lv): share[lv, myo] - share[rv, myo] + float(share[rv, myo] > 0)
        for rv, myo, lv in permutations((RV, MYO, LV))
    }


def check_labels(case: Case) -> Plausibility | None:
    """Score a labelled case's classes; None if no slice holds all three classes."""
    label = case.label
    if label is None:
        return None
    present = np.stack([(label == c).any(axis=(1, 2)) for c in (RV, MYO, LV)])
    full = np.flatnonzero(present.all(axis=0)).tolist()
    if not full:
        return None
    third = len(full) // 3
    middle = full[third : len(full) - third] or full
    per_slice = [_slice_scores(label[z]) for z in middle]
    scores = {order: float(np.mean([s[order] for s in per_slice])) for order in per_slice[0]}
    best = max(scores, key=scores.__getitem__)
    return Plausibility(case.case_id, scores[(RV, MYO, LV)], best, scores[best], len(middle))


def swapped_cases(cases: list[Case]) -> list[Plausibility]:
    """The cases whose classes look swapped (see :class:`Plausibility`)."""
    verdicts = (check_labels(c) for c in cases)
    return [v for v in verdicts if v is not None and v.swapped]


NAMES = {RV: "RV", MYO: "MYO", LV: "LV"}


def swap_message(
    swapped: list[Plausibility], total: int, what: str, label_map: dict[int, int] | None = None
) -> str:
    """One sentence for a user: which classes look swapped and the label map that fixes it.

    Example:
        >>> p = Plausibility("p1", 0.1, (3, 2, 1), 1.6, 4)
        >>> print(swap_message([p], 10, "the source"))  # doctest: +NORMALIZE_WHITESPACE
        1 of 10 labelled cases of the source look like their classes are swapped (e.g. p1):
        the class loaded as LV (3) looks like the RV, the class loaded as RV (1) looks like
        the LV. If the set uses another label convention, load it with
        --set 'data.label_map={1: 3, 2: 2, 3: 1}'.
    """
    first = swapped[0]
    moved = [
        f"the class loaded as {NAMES[code]} ({code}) looks like the {NAMES[role]}"
        for role, code in zip((RV, MYO, LV), first.best, strict=True)
        if role != code
    ]
    fix = first.fixed_label_map(label_map)
    examples = ", ".join(v.case_id for v in swapped[:3])
    return (
        f"{len(swapped)} of {total} labelled cases of {what} look like their classes are "
        f"swapped (e.g. {examples}): {', '.join(moved)}. If the set uses another label "
        f"convention, load it with --set 'data.label_map={fix}'."
    )


def check_plausible(
    cases: list[Case], what: str, label_map: dict[int, int] | None = None, strict: bool = False
) -> None:
    """Warn (or, when ``strict``, stop) when labelled classes look swapped.

    Args:
        cases: The loaded cases.
        what: How the message names the set (``the acdc source``).
        label_map: The ``data.label_map`` they were loaded with (the fix builds on it).
        strict: Raise instead of warning (``data.strict_labels`` / ``--strict``).

    Raises:
        OodcalibError: If ``strict`` and some case looks swapped.
    """
    swapped = swapped_cases(cases)
    if not swapped:
        return
    labelled = sum(c.label is not None for c in cases)
    message = swap_message(swapped, labelled, what, label_map)
    if strict:
        raise OodcalibError(message + " (data.strict_labels / --strict made this an error)")
    warnings.warn(message + " Use --strict to stop on this.", UserWarning, stacklevel=2)
