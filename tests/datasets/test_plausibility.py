"""The label plausibility check: a hand-drawn heart, every swap of its classes."""

from __future__ import annotations

from itertools import permutations

import numpy as np
import pytest

from oodcalib.datasets.case import Case
from oodcalib.datasets.plausibility import (
    check_labels,
    check_plausible,
    swap_message,
    swapped_cases,
)
from oodcalib.errors import OodcalibError


def _heart(slices: int = 6, size: int = 40) -> np.ndarray:
    """LV disc inside a MYO ring, a crescent RV touching the ring on the left."""
    yy, xx = np.mgrid[:size, :size]
    r_lv = np.hypot(yy - 20, xx - 24)
    label = np.zeros((size, size), np.uint8)
    label[(np.hypot(yy - 20, xx - 12) < 9) & (r_lv >= 9)] = 1  # RV
    label[(r_lv >= 6) & (r_lv < 9)] = 2  # MYO
    label[r_lv < 6] = 3  # LV
    return np.repeat(label[None], slices, axis=0)


def _case(label: np.ndarray, case_id: str = "p1") -> Case:
    return Case(
        case_id=case_id,
        image=np.zeros(label.shape, np.float32),
        label=label,
        domain="clean",
        spacing=(1.0, 1.0),
    )


def _relabel(label: np.ndarray, order: tuple[int, int, int]) -> np.ndarray:
    """True RV, MYO, LV stored under the codes ``order``."""
    out = np.zeros_like(label)
    for true, code in zip((1, 2, 3), order, strict=True):
        out[label == true] = code
    return out


def test_a_heart_in_the_package_convention_is_plausible():
    verdict = check_labels(_case(_heart()))
    assert verdict.best == (1, 2, 3) and not verdict.swapped
    assert verdict.score > 1.0 and verdict.slices == 2  # the middle third of 6 slices


@pytest.mark.parametrize("order", [o for o in permutations((1, 2, 3)) if o != (1, 2, 3)])
def test_every_swap_is_caught_with_the_label_map_that_undoes_it(order):
    verdict = check_labels(_case(_relabel(_heart(), order)))
    assert verdict.swapped and verdict.best == order
    fix = verdict.fixed_label_map()
    assert {code: fix[code] for code in order} == dict(zip(order, (1, 2, 3), strict=True))
    # applying the suggested map gives back the heart
    repaired = np.vectorize(lambda v: fix.get(v, v))(_relabel(_heart(), order))
    assert not check_labels(_case(repaired.astype(np.uint8))).swapped


def test_the_fix_composes_with_the_label_map_already_used():
    verdict = check_labels(_case(_relabel(_heart(), (3, 2, 1))))
    # raw codes 10/20/30 were mapped to 1/2/3 by a user map: the fix maps them onward
    assert verdict.fixed_label_map({10: 1, 20: 2, 30: 3}) == {10: 3, 20: 2, 30: 1}


def test_cases_without_all_three_classes_are_not_judged():
    label = _heart()
    label[label == 1] = 0
    assert check_labels(_case(label)) is None
    assert (
        check_labels(Case("u", np.zeros((2, 4, 4), np.float32), None, "clean", (1.0, 1.0))) is None
    )


def test_the_run_warns_or_with_strict_stops_naming_the_fix():
    cases = [_case(_heart(), "ok"), _case(_relabel(_heart(), (3, 2, 1)), "bad")]
    assert [v.case_id for v in swapped_cases(cases)] == ["bad"]
    with pytest.warns(UserWarning, match=r"1 of 2 labelled cases .* \(e.g. bad\)") as record:
        check_plausible(cases, "the nifti source")
    assert "data.label_map={1: 3, 2: 2, 3: 1}" in str(record[0].message)
    with pytest.raises(OodcalibError, match="--strict made this an error"):
        check_plausible(cases, "the nifti source", strict=True)
    assert "e.g. bad" in swap_message(swapped_cases(cases), 2, "x")
