"""The stage-time table of a run: tidy rows, stage order, minutes with totals."""

import json

import pytest

from oodcalib.benchmark.reporting.timings import format_timings, timings_table
from oodcalib.errors import DataError


def test_tidy_rows_in_stage_order(tmp_path):
    raw = {
        "fold0": {"metrics": 30.0, "fit:lts": 60.0, "train": 600.0, "predict:lts": 6.0},
        "fold1": {"train": 540.0, "metrics": 12.0},
    }
    (tmp_path / "timings.json").write_text(json.dumps(raw))
    table = timings_table(tmp_path)
    assert list(table.columns) == ["fold", "stage", "seconds"]
    assert table["stage"].drop_duplicates().tolist() == [
        "train",
        "fit:lts",
        "predict:lts",
        "metrics",
    ]
    assert table["seconds"].sum() == pytest.approx(1248.0)
    text = format_timings(table).splitlines()
    assert text[0].split() == ["stage", "fold0", "fold1", "total"]
    assert text[-1].split() == ["total", "11.60", "9.20", "20.80"]


def test_missing_timings_name_the_file(tmp_path):
    with pytest.raises(DataError, match="timings.json"):
        timings_table(tmp_path)


def test_a_loss_grid_gets_one_column_per_loss(tmp_path):
    raw = {
        "ce/fold0": {"train": 60.0},
        "ce/fold1": {"train": 120.0},
        "nacl/fold0": {"train": 30.0, "metrics": 6.0},
    }
    (tmp_path / "timings.json").write_text(json.dumps(raw))
    lines = format_timings(timings_table(tmp_path)).splitlines()
    assert lines[0].split() == ["stage", "ce", "nacl", "total"]
    assert lines[1].split() == ["train", "3.00", "0.50", "3.50"]
    assert lines[-1].split() == ["total", "3.00", "0.60", "3.60"]
