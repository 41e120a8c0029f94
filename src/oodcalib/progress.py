"""Progress of long loops: a tqdm bar on a terminal, sparse plain lines in a log file.

A bar redraws itself several times a second. Written to a file (``nohup oodcalib run
... &``), every redraw stays, and one run's log grew to 473 kB. So when standard error
is not a terminal, :func:`progress` prints a plain line only when the loop passes a
tenth of its length and at least ``interval`` seconds after its last line, and a last
line at the end of a loop that printed any, e.g.::

    fold 0 train: 40% (2400/6000), 3.1 min elapsed, about 4.6 min left

Short loops print nothing. ``OODCALIB_PROGRESS=bars``, ``lines`` or ``off`` overrides
the choice.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO

from tqdm.auto import tqdm

#: Seconds between two plain lines of one loop (at least).
INTERVAL = 60.0
MODES = ("bars", "lines", "off")


def progress_mode() -> str:
    """``bars`` on a terminal, ``lines`` elsewhere, or ``$OODCALIB_PROGRESS``."""
    mode = os.environ.get("OODCALIB_PROGRESS", "").strip().lower()
    if mode in MODES:
        return mode
    return "bars" if sys.stderr.isatty() else "lines"


def progress(
    iterable: Iterable | None = None,
    desc: str = "",
    total: int | None = None,
    initial: int = 0,
    interval: float = INTERVAL,
) -> Any:
    """A progress bar (:class:`tqdm.tqdm`) or its plain-line stand-in (:class:`Lines`).

    Both iterate over ``iterable`` and take ``update``, ``set_postfix`` and ``close``.

    Args:
        iterable: What to loop over.
        desc: What the loop does (``fold 0 train``).
        total: Its length (default ``len(iterable)``).
        initial: Steps done before (a resumed loop).
        interval: Least seconds between two plain lines.
    """
    mode = progress_mode()
    if mode == "bars":
        return tqdm(
            iterable, desc=desc, total=total, initial=initial, leave=False, dynamic_ncols=True
        )
    return Lines(iterable, desc, total, initial, interval, quiet=mode == "off")


def duration(seconds: float) -> str:
    """A duration in words a log reader takes in at once.

    Example:
        >>> duration(42), duration(200), duration(9000)
        ('42 s', '3.3 min', '2.5 h')
    """
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


class Lines:
    """Plain progress lines at each tenth of a loop, at most one per ``interval`` seconds.

    Example:
        >>> import io
        >>> ticks, out = iter(range(0, 1000, 10)), io.StringIO()
        >>> for _ in Lines(range(4), "demo", interval=15, clock=lambda: next(ticks), stream=out):
        ...     pass
        >>> print(out.getvalue(), end="")
        demo: 50% (2/4), 20 s elapsed, about 20 s left
        demo: 100% (4/4), 40 s elapsed, about 0 s left
        demo: done (4/4) in 50 s
    """

    def __init__(
        self,
        iterable: Iterable | None = None,
        desc: str = "",
        total: int | None = None,
        initial: int = 0,
        interval: float = INTERVAL,
        quiet: bool = False,
        clock: Callable[[], float] = time.monotonic,
        stream: TextIO | None = None,
    ) -> None:
        self.iterable, self.desc, self.interval, self.quiet = iterable, desc, interval, quiet
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = initial + len(iterable)  # type: ignore[arg-type]
        self.total, self.n, self._first = total, initial, initial
        self._clock, self._stream = clock, stream
        self._start = self._last = clock()
        self._tenth = self._tenths(initial)
        self._printed, self._closed, self.postfix = False, False, ""

    def _tenths(self, n: int) -> int:
        return int(10 * n / self.total) if self.total else 0

    def __iter__(self) -> Iterator:
        assert self.iterable is not None
        for item in self.iterable:
            yield item
            self.update()
        self.close()

    def update(self, n: int = 1) -> None:
        """Count ``n`` more steps; print a line if a new tenth is passed and it is time."""
        self.n += n
        now, tenth = self._clock(), self._tenths(self.n)
        if tenth > self._tenth and now - self._last >= self.interval:
            self._tenth, self._last = tenth, now
            self._write(self._line(now))

    def set_postfix(self, **values: Any) -> None:
        """Values shown after the counts (``val_dice=0.812``)."""
        self.postfix = ", ".join(f"{k}={v}" for k, v in values.items())

    def close(self) -> None:
        """Print the last line of a loop that printed any."""
        if self._printed and not self._closed:
            elapsed = self._clock() - self._start
            done = f" ({self.n}/{self.total})" if self.total else ""
            self._write(f"{self.desc}: done{done} in {duration(elapsed)}")
        self._closed = True

    def _line(self, now: float) -> str:
        elapsed, done = now - self._start, self.n - self._first
        text = f"{self.desc}: "
        if self.total:
            text += f"{100 * self.n / self.total:.0f}% ({self.n}/{self.total}), "
        text += f"{duration(elapsed)} elapsed"
        if self.total and done > 0:
            text += f", about {duration(elapsed / done * (self.total - self.n))} left"
        return text + (f", {self.postfix}" if self.postfix else "")

    def _write(self, line: str) -> None:
        if not self.quiet:
            print(line, file=self._stream or sys.stderr, flush=True)
            self._printed = True
