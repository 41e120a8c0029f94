"""The run's wall time: added by every process, kept by the cells' collection, skipped by
the stage table."""

import json

import pytest

from oodcalib.atomic import write_json
from oodcalib.benchmark.protocol.runner import collect_timings
from oodcalib.benchmark.reporting.timings import run_wall_time, timings_table, wall_time_sentence
from oodcalib.benchmark.run_clock import RunClock


def fake_clock(*ticks):
    values = iter(ticks)
    return lambda: next(values)


def test_two_processes_add_up_and_each_counts_once(tmp_path):
    first = RunClock(tmp_path, clock=fake_clock(0.0, 100.0, 250.0))
    first.tick()
    first.tick()  # killed after its second cell: 250 s
    second = RunClock(tmp_path, clock=fake_clock(1000.0, 1030.0))  # resumed later
    second.tick()
    assert run_wall_time(tmp_path) == (280.0, 2)  # the gap between processes not counted


def test_cell_timings_are_kept_beside_the_wall_time(tmp_path):
    cell = tmp_path / "losses" / "ce" / "fold0"
    cell.mkdir(parents=True)
    (cell / "timings.json").write_text(json.dumps({"train": 60.0, "metrics": 6.0}))
    RunClock(tmp_path, clock=fake_clock(0.0, 70.0)).tick()
    collect_timings(tmp_path)  # rewrites the run's timings.json from its cells
    saved = json.loads((tmp_path / "timings.json").read_text())
    assert saved == {
        "run": {"wall": 70.0, "processes": 1},
        "ce/fold0": {"train": 60.0, "metrics": 6.0},
    }
    table = timings_table(tmp_path)  # the stage table: cells only
    assert set(table["fold"]) == {"ce/fold0"}
    assert table["seconds"].sum() == 66.0


def test_a_run_recorded_before_the_wall_time_has_none(tmp_path):
    (tmp_path / "timings.json").write_text(json.dumps({"fold0": {"train": 1.0}}))
    assert run_wall_time(tmp_path) is None
    assert run_wall_time(tmp_path / "missing") is None


def test_a_damaged_record_starts_again(tmp_path):
    (tmp_path / "timings.json").write_text("{not json")
    RunClock(tmp_path, clock=fake_clock(0.0, 5.0)).tick()
    assert run_wall_time(tmp_path) == (5.0, 1)


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"wall": 90.0, "processes": 1}, "1.5 min over 1 process of oodcalib run"),
        ({"wall": 14847.0, "processes": 2}, "247.4 min over 2 processes of oodcalib run"),
        (None, None),
    ],
)
def test_the_wall_time_has_one_wording(tmp_path, record, expected):
    if record is not None:
        write_json(tmp_path / "timings.json", {"run": record})
    assert wall_time_sentence(tmp_path) == expected
