"""The leak check: a patient or a scan on both sides of a split is an error naming it."""

from __future__ import annotations

import numpy as np
import pytest

from oodcalib.datasets.case import Case
from oodcalib.datasets.leakage import (
    LeakError,
    check_splits,
    check_test_scans,
    scan_digest,
    scan_digests,
    source_patients,
    trained_scans,
    twin_scans,
)
from oodcalib.datasets.splits import make_splits, patient_ids


def _splits(train, val, test, folds) -> dict:
    return {
        "pools": {"train": train, "val": val, "test": test},
        "folds": [{"fold": k, "train": t, "val": v} for k, (t, v) in enumerate(folds)],
    }


def _case(case_id: str, value: float, source: str = "") -> Case:
    image = np.full((2, 4, 4), value, np.float32)
    return Case(case_id, image, None, "clean", source=source)


@pytest.mark.parametrize("seed", range(5))
def test_made_splits_pass_whatever_the_seed_and_patients(seed):
    ids = [f"p{i:02d}_{phase}" for i in range(30) for phase in ("ED", "ES")]
    pattern = r"^(p\d+)"
    splits = make_splits(
        ids,
        seed=seed,
        n_folds=3,
        train_per_fold=5,
        val_per_fold=2,
        patients=patient_ids(ids, pattern),
    )
    check_splits(splits, patient_ids(ids, pattern), "made")  # no error


@pytest.mark.parametrize(
    ("splits", "message"),
    [
        (
            _splits(["a"], ["b"], ["a", "c"], [(["a"], ["b"])]),
            "patient 'a' is in the train pool, the test pool and fold 0 train",
        ),
        (
            _splits(["a", "b"], ["c"], ["d"], [(["a"], ["a"])]),
            "patient 'a' is in the train pool, fold 0 train and fold 0 val",
        ),
        (
            _splits(["a"], ["b"], ["c"], [(["a"], ["b"]), (["c"], ["b"])]),
            "patient 'c' is in the test pool and fold 1 train",
        ),
        (
            _splits(["a"], ["a"], ["c"], []),
            "patient 'a' is in the train pool and the val pool",
        ),
    ],
)
def test_a_patient_in_two_splits_is_named_with_the_splits(splits, message):
    with pytest.raises(LeakError, match=f"data leak in splits.json: {message}$"):
        check_splits(splits, {}, "splits.json")


def test_patients_are_told_apart_by_the_pattern_and_counted_past_three():
    train = [f"p{i}_ED" for i in range(5)]
    test = [f"p{i}_ES" for i in range(5)]
    splits = _splits(train, [], test, [])
    check_splits(splits, {}, "x")  # case ids differ: no leak without a pattern
    with pytest.raises(LeakError) as info:
        check_splits(splits, patient_ids(train + test, r"^(p\d)_"), "x")
    text = str(info.value)
    assert "patient 'p0' is in the train pool and the test pool" in text
    assert text.endswith("; and 2 more patient(s)") and "\n" not in text


def test_the_same_image_under_two_ids_is_one_patient_with_a_warning():
    cases = [_case("p0", 0, "imgs/p0.nii"), _case("p1", 1), _case("self_p0", 0, "imgs/self/p0.nii")]
    with pytest.warns(UserWarning, match=r"'p0' \(imgs/p0.nii\) = 'self_p0' \(imgs/self/p0"):
        digests = scan_digests(cases, "the nifti source")
    assert twin_scans(digests) == [["p0", "self_p0"]]
    patients = source_patients(digests, None, digests)
    assert patients == {"p0": "p0", "p1": "p1", "self_p0": "p0"}
    ids = [f"c{i:02d}" for i in range(40)]
    twins = {c: str(i) for i, c in enumerate(ids)} | {"c39": "0"}  # c39 is c00's image
    for seed in range(10):  # made splits keep the two together, whatever the seed
        patient_of = source_patients(ids, None, twins)
        splits = make_splits(ids, seed=seed, n_folds=2, train_per_fold=5, val_per_fold=2,
                             patients=patient_of)  # fmt: skip
        check_splits(splits, patient_of, "made")
        roles = [r for r, members in splits["pools"].items() if {"c00", "c39"} & set(members)]
        assert len(roles) == 1
    recorded = _splits(ids[:20], ids[20:30], ids[30:], [(ids[:5], ids[20:22])])
    with pytest.raises(
        LeakError,
        match=r"patient 'c00' \('c00' = 'c39': the same scan\) is in the train pool, the "
        r"test pool and fold 0 train$",
    ):
        patient_of = source_patients(ids, None, twins)
        check_splits(recorded, patient_of, "splits.json", twin_scans(twins))


def test_the_digest_tells_shape_type_and_values_apart():
    base = _case("a", 1)
    assert scan_digest(base) == scan_digest(_case("b", 1))
    assert scan_digest(base) != scan_digest(_case("b", 2))
    flat = base.with_arrays(base.image.reshape(1, 8, 4))
    assert scan_digest(base) != scan_digest(flat)
    assert scan_digest(base) != scan_digest(base.with_arrays(base.image.astype(np.float64)))


def test_a_test_domain_holding_a_training_scan_is_refused():
    source = [_case("a", 0), _case("b", 1), _case("c", 2)]
    splits = _splits(["a"], ["b"], ["c"], [(["a"], ["b"])])
    trained = trained_scans(scan_digests(source, "src"), splits)
    assert sorted(trained.values()) == [
        "source case 'a' (fold 0 train)",
        "source case 'b' (fold 0 val)",
    ]
    check_test_scans([_case("x", 2), _case("y", 3)], trained, "vendor")  # c is a test scan
    with pytest.raises(
        LeakError,
        match=r"test domain 'vendor' holds 'y' \(no file\), the same scan as source case 'b' "
        r"\(fold 0 val\); drop it",
    ):
        check_test_scans([_case("x", 2), _case("y", 1)], trained, "vendor", "; drop it")
