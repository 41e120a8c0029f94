import json

import numpy as np
import pytest

import oodcalib.corruptions.cache as cache_module
from oodcalib.corruptions import CorruptionCache, corrupt_case
from oodcalib.datasets.case import Case
from oodcalib.errors import DataError


def make_case(case_id: str = "patient001", seed: int = 0, shape=(4, 24, 24)) -> Case:
    image = np.random.default_rng(seed).random(shape).astype(np.float32)
    label = (image > 0.7).astype(np.uint8)
    return Case(case_id, image, label, "clean", meta={"phase": "ES"})


@pytest.fixture
def counted(monkeypatch):
    """Count the calls the cache makes to ``corrupt_case``."""
    calls = []

    def counting(*args, **kwargs):
        calls.append(args)
        return corrupt_case(*args, **kwargs)

    monkeypatch.setattr(cache_module, "corrupt_case", counting)
    return calls


def test_miss_computes_and_writes_entry(tmp_path, counted):
    case = make_case()
    out = CorruptionCache(tmp_path).get(case, "ghosting", 2, 7)
    expected = corrupt_case(case, "ghosting", 2, 7)
    assert len(counted) == 1
    assert np.array_equal(out.image, expected.image) and out.meta == expected.meta
    folder = tmp_path / "ghosting-s2-seed7"
    assert sorted(p.name for p in folder.iterdir()) == ["patient001.json", "patient001.npz"]
    record = json.loads((folder / "patient001.json").read_text())
    assert record["corruption"] == expected.meta["corruption"]
    assert record["input_shape"] == [4, 24, 24]
    with np.load(folder / "patient001.npz") as data:
        assert np.array_equal(data["image"], expected.image)
        assert np.array_equal(data["label"], case.label)


def test_hit_does_not_recompute(tmp_path, counted):
    case = make_case()
    first = CorruptionCache(tmp_path).get(case, "motion", 3, 0)
    second = CorruptionCache(tmp_path).get(case, "Motion", 3, 0)  # fresh object, same root
    assert len(counted) == 1
    assert np.array_equal(first.image, second.image) and second.image.dtype == np.float32
    assert np.array_equal(first.label, second.label)
    assert second.meta == first.meta and second.domain == "motion"
    assert second.case_id == case.case_id


@pytest.mark.parametrize(
    "changed",
    [
        lambda c: c.with_arrays(c.image * 2 + 1),  # same shape, other values
        lambda c: make_case(shape=(5, 24, 24)),  # other shape
        lambda c: c.with_arrays(c.image, label=np.zeros_like(c.label)),  # relabelled
    ],
)
def test_changed_input_recomputes(tmp_path, counted, changed):
    cache = CorruptionCache(tmp_path)
    cache.get(make_case(), "spike", 3, 0)
    new = changed(make_case())
    out = cache.get(new, "spike", 3, 0)
    assert len(counted) == 2
    assert np.array_equal(out.image, corrupt_case(new, "spike", 3, 0).image)
    assert np.array_equal(out.label, new.label)
    cache.get(new, "spike", 3, 0)  # the entry was overwritten with the new input
    assert len(counted) == 2


def test_keys_separate_entries(tmp_path, counted):
    cache = CorruptionCache(tmp_path)
    case = make_case()
    for severity, seed in [(3, 0), (4, 0), (3, 1)]:
        cache.get(case, "bias_field", severity, seed)
    cache.get(make_case("patient002"), "bias_field", 3, 0)
    assert len(counted) == 4
    assert {p.name for p in tmp_path.iterdir()} == {
        "bias_field-s3-seed0",
        "bias_field-s4-seed0",
        "bias_field-s3-seed1",
    }


def test_broken_or_mismatched_entry_is_recomputed(tmp_path, counted):
    cache = CorruptionCache(tmp_path)
    case = make_case()
    good = cache.get(case, "spike", 3, 0)
    npz_path, json_path = cache.paths(case.case_id, "spike", 3, 0)
    json_path.write_text("{not json")
    assert np.array_equal(cache.get(case, "spike", 3, 0).image, good.image)
    assert len(counted) == 2
    # an npz from another input next to this input's json is not trusted
    other = make_case(seed=1)
    cache.get(other, "spike", 3, 0)
    other_npz = npz_path.read_bytes()
    cache.get(case, "spike", 3, 0)
    npz_path.write_bytes(other_npz)
    assert np.array_equal(cache.get(case, "spike", 3, 0).image, good.image)
    assert len(counted) == 5


def test_unlabelled_case_and_no_temporary_files(tmp_path):
    case = Case("lge01", np.random.default_rng(0).random((3, 16, 16)), None, "clean")
    cache = CorruptionCache(tmp_path)
    first = cache.get(case, "motion", 1, 0)
    second = cache.get(case, "motion", 1, 0)
    assert first.label is None and second.label is None
    assert np.array_equal(first.image, second.image)
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_bad_case_id_and_name(tmp_path):
    cache = CorruptionCache(tmp_path)
    with pytest.raises(DataError, match="case id"):
        cache.get(make_case("../escape"), "spike", 3, 0)
    with pytest.raises(KeyError, match="bias_field"):
        cache.get(make_case(), "blur", 3, 0)
    with pytest.raises(ValueError, match="1, 2, 3, 4, 5"):
        cache.get(make_case(), "spike", 9, 0)
