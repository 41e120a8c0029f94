"""Stage times: exclusive nesting, errors still charged, totals added up across sessions."""

import json

import pytest

from oodcalib.benchmark.protocol.stage_timer import StageTimer


def fake_clock(*ticks: float):
    values = iter(ticks)
    return lambda: next(values)


def test_nested_stages_are_exclusive_and_add_up_to_the_wall_time():
    # enter a, enter b, leave b, enter b again, enter c, leave c, leave b, leave a
    timer = StageTimer(fake_clock(0, 1, 4, 5, 5.5, 9.5, 10, 12))
    with timer.stage("a"):
        with timer.stage("b"):
            pass
        with timer.stage("b"):
            with timer.stage("c"):
                pass
    assert dict(timer.seconds) == {"a": 1 + 1 + 2, "b": 3 + 0.5 + 0.5, "c": 4}
    assert sum(timer.seconds.values()) == 12


def test_a_failing_stage_is_still_charged_and_the_stack_unwinds():
    timer = StageTimer(fake_clock(0, 2, 3, 7))
    with pytest.raises(RuntimeError), timer.stage("fit"):
        raise RuntimeError("boom")
    with timer.stage("metrics"):
        pass
    assert dict(timer.seconds) == {"fit": 2, "metrics": 4}


def test_save_adds_to_the_previous_sessions(tmp_path):
    path = tmp_path / "timings.json"
    for ticks in ((0, 2), (10, 13.5)):
        timer = StageTimer(fake_clock(*ticks))
        with timer.stage("train"):
            pass
        assert timer.save(path)["train"] == (2 if ticks[0] == 0 else 5.5)
        assert not timer.seconds
    assert json.loads(path.read_text()) == {"train": 5.5}
