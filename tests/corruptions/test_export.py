import json

import nibabel as nib
import numpy as np
import pytest

from oodcalib.corruptions import CorruptionCache, corrupt_case, minmax_slices, write_corrupted_nifti
from oodcalib.datasets.case import Case
from oodcalib.errors import DataError, UnknownNameError


def make_cases() -> list[Case]:
    rng = np.random.default_rng(0)
    labelled = Case(
        "patient001",
        rng.random((4, 20, 24)).astype(np.float32),
        rng.integers(0, 4, (4, 20, 24)).astype(np.uint8),
        "clean",
        spacing=(1.25, 1.5),
    )
    unlabelled = Case("patient002", rng.random((3, 16, 16)).astype(np.float32), None, "clean")
    return [labelled, unlabelled]


def test_writes_readable_volumes_and_parameters(tmp_path):
    cases = make_cases()
    paths = write_corrupted_nifti(cases, ["motion", "Spike"], 3, 0, tmp_path)
    relative = sorted(p.relative_to(tmp_path).as_posix() for p in paths)
    assert relative == [
        "clean/patient001.nii.gz",
        "clean/patient002.nii.gz",
        "labels/patient001.nii.gz",
        "motion/patient001.nii.gz",
        "motion/patient002.nii.gz",
        "parameters.json",
        "spike/patient001.nii.gz",
        "spike/patient002.nii.gz",
    ]
    assert all(p.is_file() for p in paths)
    first = cases[0]
    corrupted = nib.load(tmp_path / "motion" / "patient001.nii.gz")
    assert corrupted.shape == (20, 24, 4)  # (H, W, Z)
    assert np.allclose(np.diag(corrupted.affine), [1.25, 1.5, 1, 1])
    expected = corrupt_case(first, "motion", 3, 0).image
    assert np.array_equal(corrupted.get_fdata(dtype=np.float32).transpose(2, 0, 1), expected)
    label = nib.load(tmp_path / "labels" / "patient001.nii.gz")
    assert label.get_data_dtype() == np.uint8
    assert np.array_equal(np.asarray(label.dataobj).transpose(2, 0, 1), first.label)
    clean = nib.load(tmp_path / "clean" / "patient002.nii.gz")
    assert clean.shape == (16, 16, 3) and np.allclose(clean.affine, np.eye(4))
    assert np.allclose(clean.get_fdata().transpose(2, 0, 1), minmax_slices(cases[1].image))

    summary = json.loads((tmp_path / "parameters.json").read_text())
    assert summary["severity"] == 3 and summary["seed"] == 0
    assert summary["corruptions"] == ["motion", "spike"]
    assert len(summary["cases"]) == 4
    for record in summary["cases"]:
        case = next(c for c in cases if c.case_id == record["case_id"])
        meta = corrupt_case(case, record["name"], 3, 0).meta["corruption"]
        assert {k: v for k, v in record.items() if k != "case_id"} == meta


def test_uses_cache(tmp_path):
    cache = CorruptionCache(tmp_path / "cache")
    write_corrupted_nifti(make_cases()[:1], ["ghosting"], 2, 5, tmp_path / "out", cache=cache)
    assert (tmp_path / "cache" / "ghosting-s2-seed5" / "patient001.npz").is_file()


def test_bad_arguments_write_nothing(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(UnknownNameError, match="ghosting"):
        write_corrupted_nifti(make_cases(), ["motion", "blur"], 3, 0, out)
    with pytest.raises(ValueError, match="1, 2, 3, 4, 5"):
        write_corrupted_nifti(make_cases(), ["motion"], 0, 0, out)
    twice = [make_cases()[0], make_cases()[0]]
    with pytest.raises(DataError, match="duplicate"):
        write_corrupted_nifti(twice, ["motion"], 3, 0, out)
    assert not out.exists()
