import pytest

from oodcalib.datasets.splits import make_splits, read_splits, write_splits
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


def test_too_few_patients_is_explained():
    with pytest.raises(OodcalibError, match="too few"):
        make_splits(IDS[:30])
