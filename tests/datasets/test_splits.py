import re

import pytest

from oodcalib.datasets.splits import make_splits, patient_ids, read_splits, write_splits
from oodcalib.errors import OodcalibError

IDS = [f"patient{i:03d}" for i in range(1, 101)]


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_protocol_sizes_and_disjointness(seed):
    s = make_splits(IDS, seed=seed)
    pools = s["pools"]
    assert [len(pools[k]) for k in ("train", "val", "test")] == [60, 20, 20]
    assert set(pools["train"]) | set(pools["val"]) | set(pools["test"]) == set(IDS)
    for fold in s["folds"]:
        assert len(fold["train"]) == 20 and len(fold["val"]) == 5
        assert set(fold["train"]) <= set(pools["train"])
        assert set(fold["val"]) <= set(pools["val"])
        assert not set(fold["train"]) & set(pools["test"])
    trains = [set(f["train"]) for f in s["folds"]]
    assert not (trains[0] & trains[1]) and not (trains[1] & trains[2])


def test_seeded_and_order_independent():
    assert make_splits(IDS, seed=3) == make_splits(list(reversed(IDS)), seed=3)
    assert make_splits(IDS, seed=3) != make_splits(IDS, seed=4)


def test_json_round_trip(tmp_path):
    s = make_splits(IDS)
    write_splits(s, tmp_path / "splits.json")
    assert read_splits(tmp_path / "splits.json") == s


def test_too_few_patients_is_explained_with_the_keys_to_change():
    with pytest.raises(OodcalibError, match="too few") as error:
        make_splits(IDS[:30])
    for key in (
        "data.train_per_fold=20",
        "data.val_per_fold=5",
        "data.n_folds=3",
        "data.split_fractions",
    ):
        assert key in str(error.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"val_per_fold": 0}, "data.val_per_fold must be a whole number >= 1, got 0"),
        ({"train_per_fold": 2.5}, "data.train_per_fold must be a whole number >= 1"),
        ({"fractions": (0.5, 0.2, 0.9)}, "data.split_fractions must be three"),
        ({"fractions": (0.6, -0.2, 0.6)}, "in [0, 1] that sum to 1"),
    ],
)
def test_impossible_settings_are_refused_before_any_split(kwargs, message):
    with pytest.raises(OodcalibError, match=re.escape(message)):
        make_splits(IDS, **kwargs)


def test_every_file_of_a_patient_lands_in_the_same_pool_and_fold():
    cases = [f"P{i:03d}_{phase}" for i in range(100) for phase in ("ED", "ES")]
    splits = make_splits(cases, patients=patient_ids(cases, r"^(P\d+)_"))
    owner = {}
    for name, pool in splits["pools"].items():
        for case in pool:
            owner.setdefault(case[:4], set()).add(name)
    assert len(owner) == 100 and all(len(pools) == 1 for pools in owner.values())
    assert [len(splits["pools"][k]) for k in ("train", "val", "test")] == [120, 40, 40]
    fold = splits["folds"][0]
    assert len(fold["train"]) == 40 and {c[:4] for c in fold["train"]}.isdisjoint(
        {c[:4] for c in fold["val"]}
    )
    # without the pattern the two frames of a patient are split apart
    plain = make_splits(cases)
    leaks = {c[:4] for c in plain["pools"]["train"]} & {c[:4] for c in plain["pools"]["test"]}
    assert leaks
    # one patient per case gives the splits of before
    assert make_splits(IDS, patients=patient_ids(IDS, None)) == make_splits(IDS)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (r"^(Q\d+)", "does not match case id 'P000_ED'"),
        (r"^(P\d+", "is not a valid regular expression"),
    ],
)
def test_bad_patient_patterns_name_the_key(pattern, message):
    with pytest.raises(OodcalibError, match=re.escape(message)) as error:
        patient_ids(["P000_ED"], pattern)
    assert "data.patient_pattern" in str(error.value)


@pytest.mark.parametrize(("patients", "pools"), [(100, [60, 20, 20]), (99, [60, 20, 19]),
                                                 (81, [60, 16, 5])])  # fmt: skip
def test_pools_are_raised_to_what_the_folds_draw_at_the_test_pools_expense(patients, pools):
    s = make_splits(IDS[:patients], seed=0)
    assert [len(s["pools"][k]) for k in ("train", "val", "test")] == pools
    drawn = [c for f in s["folds"] for c in f["train"] + f["val"]]
    assert len(drawn) == len(set(drawn)) == 75 and not set(drawn) & set(s["pools"]["test"])


def test_no_test_patient_left_is_refused():
    with pytest.raises(OodcalibError, match="non-empty test set"):
        make_splits(IDS[:75])  # 60 + 15 drawn by the folds, none left to test
