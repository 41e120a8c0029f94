"""The wall time of a run, over every ``oodcalib run`` process that worked on it.

A run may take several processes (one is stopped, the next resumes), so its wall time is
kept in the run directory: under the reserved key ``"run"`` of ``run_dir/timings.json``,
beside the cells' stage times, as ``wall`` (seconds) and ``processes`` (how many
``oodcalib run`` processes added to it). A process adds its time after each cell it
finishes and when it ends, so one that is killed loses only the time since its last
finished cell. The stage times of the cells add up to less: they leave out loading the
data, the waits between cells and the report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from oodcalib.atomic import read_json_object, write_json

RUN_KEY = "run"


class RunClock:
    """Adds the wall time of this process to ``run_dir/timings.json`` as it goes.

    Args:
        run_dir: The run directory (its lock is held by the caller).
        clock: Source of time in seconds (``time.perf_counter``; tests pass a fake one).

    Example:
        >>> import tempfile
        >>> run_dir = Path(tempfile.mkdtemp())
        >>> ticks = iter([0.0, 60.0, 90.0])
        >>> clock = RunClock(run_dir, clock=lambda: next(ticks))
        >>> clock.tick(); clock.tick()
        >>> read_json_object(run_dir / "timings.json")["run"]
        {'wall': 90.0, 'processes': 1}
    """

    def __init__(self, run_dir: Path, clock: Callable[[], float] = time.perf_counter) -> None:
        self.path = Path(run_dir) / "timings.json"
        self._clock = clock
        self._since = clock()
        self._counted = False

    def tick(self) -> None:
        """Add the seconds since the last tick (or since the clock started) to the run's."""
        now = self._clock()
        timings = read_json_object(self.path)
        record = timings.get(RUN_KEY)
        if not isinstance(record, dict):
            record = {}
        record["wall"] = round(float(record.get("wall", 0.0)) + now - self._since, 3)
        record["processes"] = int(record.get("processes", 0)) + (not self._counted)
        self._since, self._counted = now, True
        write_json(self.path, {**timings, RUN_KEY: record})
