"""The calibration patients of foreign networks: a patient list or a split file."""

from __future__ import annotations

import json

import pytest

from oodcalib.datasets.calibration_split import calibration_splits
from oodcalib.datasets.splits import make_splits
from oodcalib.errors import DataError

IDS = [f"p{i:02d}_{phase}" for i in range(8) for phase in ("ED", "ES")]


def test_a_patient_list_calibrates_every_fold_and_tests_the_rest(tmp_path):
    path = tmp_path / "calibration.txt"
    path.write_text("# calibration patients\np01\np03  # by patient id\n\np05_ES\n")
    splits = calibration_splits(path, IDS, n_folds=3, pattern=r"^(p\d+)")
    val = ["p01_ED", "p01_ES", "p03_ED", "p03_ES", "p05_ES"]
    assert [f["val"] for f in splits["folds"]] == [val] * 3
    assert all(f["train"] == [] for f in splits["folds"])
    assert splits["pools"]["test"] == sorted(set(IDS) - set(val))


def test_a_run_splits_file_is_taken_fold_by_fold(tmp_path):
    made = make_splits(IDS, n_folds=2, train_per_fold=2, val_per_fold=1)
    path = tmp_path / "splits.json"
    path.write_text(json.dumps(made))
    splits = calibration_splits(path, IDS, n_folds=2)
    assert splits["folds"] == made["folds"] and splits["pools"]["test"] == made["pools"]["test"]


def test_bad_calibration_files_name_the_file(tmp_path):
    made = make_splits(IDS, n_folds=2, train_per_fold=2, val_per_fold=1)
    path = tmp_path / "splits.json"
    path.write_text(json.dumps(made))
    with pytest.raises(DataError, match="holds 2 folds but 3 networks"):
        calibration_splits(path, IDS, n_folds=3)
    leaky = {**made, "folds": [{**made["folds"][0], "val": made["pools"]["test"][:1]}]}
    path.write_text(json.dumps(leaky))
    with pytest.raises(DataError, match="calibrates on test cases"):
        calibration_splits(path, IDS, n_folds=1)
    listed = tmp_path / "list.txt"
    listed.write_text("p01\nnobody\n")
    with pytest.raises(DataError, match=r"list\.txt: names cases not in the data: nobody"):
        calibration_splits(listed, IDS, n_folds=1, pattern=r"^(p\d+)")
    listed.write_text("\n".join(IDS))
    with pytest.raises(DataError, match="no test cases"):
        calibration_splits(listed, IDS, n_folds=1)
    with pytest.raises(DataError, match="not found"):
        calibration_splits(tmp_path / "none.txt", IDS, n_folds=1)
