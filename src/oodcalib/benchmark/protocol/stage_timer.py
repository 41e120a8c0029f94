"""Wall time per named stage of a fold (training, logits, passes, fits, predictions, metrics).

Stages nest, and time is exclusive: while an inner stage runs (the augmented passes a
calibrator asks for while it predicts), its outer stage is paused, so the stages of a
fold add up to its wall time. The totals are added to ``fold{k}/timings.json``, so a
resumed run reports the time spent over all its sessions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from oodcalib.atomic import add_totals


class StageTimer:
    """Seconds per stage, exclusive of nested stages.

    Args:
        clock: Source of time in seconds (``time.perf_counter``; tests pass a fake one).

    Example:
        >>> ticks = iter([0.0, 1.0, 3.0, 3.5])  # enter outer, enter inner, leave both
        >>> timer = StageTimer(clock=lambda: next(ticks))
        >>> with timer.stage("outer"):
        ...     with timer.stage("inner"):
        ...         pass
        >>> dict(timer.seconds)
        {'outer': 1.5, 'inner': 2.0}
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.seconds: dict[str, float] = {}
        self._clock = clock
        self._stack: list[str] = []
        self._since = 0.0

    def _charge(self) -> None:
        now = self._clock()
        if self._stack:
            stage = self._stack[-1]
            self.seconds[stage] = self.seconds.get(stage, 0) + (now - self._since)
        self._since = now

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Attribute the time spent inside the ``with`` block (minus nested stages) to ``name``."""
        self._charge()
        self._stack.append(name)
        try:
            yield
        finally:
            self._charge()
            self._stack.pop()

    def save(self, path: Path) -> dict[str, float]:
        """Add the seconds to those already in ``path`` (JSON), reset, and return the total."""
        total = add_totals(path, self.seconds, ndigits=3)
        self.seconds.clear()
        return total
