"""One writer per run directory: an OS file lock, held while a command writes into it.

Every command that writes into a run directory (``run``, ``evaluate``, ``ablate``,
``rescore``, ``figures``, ``leaderboard``, ``summary``) holds an exclusive
:func:`fcntl.flock` on ``RUN_DIR/.oodcalib.lock`` while it works. A second one is refused
at once with a one-line error naming the lock file and the process that holds it (PID,
host, command and start time, which the holder writes into the lock file). The kernel
releases the lock when its process ends, however it ends (``kill -9`` included), so a
lock left by a dead process never blocks: the file may stay, the lock does not.

The lock is re-entrant within a process (a command holding it may call a function that
takes it again). Worker processes of a run (``--jobs``, dask) write only files of their
own cell, under their parent's lock. ``flock`` locks a local file system; on a network
file system that does not support it, two hosts are not kept apart.
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import functools
import inspect
import json
import os
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

from oodcalib.errors import OodcalibError

#: Name of the lock file inside a run directory.
LOCK_NAME = ".oodcalib.lock"

P = ParamSpec("P")
R = TypeVar("R")

#: Locks this process holds: real path of the lock file -> [descriptor, depth, pid].
_HELD: dict[str, list[int]] = {}


class RunLockedError(OodcalibError):
    """Another process is writing into the run directory."""


def lock_path(run_dir: str | Path) -> Path:
    """The lock file of ``run_dir``."""
    return Path(run_dir) / LOCK_NAME


@contextmanager
def run_lock(
    run_dir: str | Path,
    command: str | None = None,
    required: bool = True,
    create: bool = True,
) -> Iterator[Path | None]:
    """Hold the run directory's lock for the ``with`` block.

    Args:
        run_dir: The run directory.
        command: What holds it, written into the lock file for the message a second
            writer gets (default: this process's command line).
        required: If False, a run directory this user cannot write (so cannot lock)
            is used without the lock (commands that only read, or mend a file).
        create: Create a missing run directory (``run``); if False, a missing one is
            not locked (the command then reports that it is not a run directory).

    Yields:
        The lock file, or None when it was not taken (see ``required``, ``create``).

    Raises:
        RunLockedError: Another process holds the lock (the message names the lock
            file and the holder's PID, host and command).
        OodcalibError: The run directory is a file, or cannot be written.
    """
    path = lock_path(run_dir)
    key = os.path.realpath(path)
    held = _HELD.get(key)
    if held is not None and held[2] == os.getpid():
        held[1] += 1
        try:
            yield path
        finally:
            held[1] -= 1
        return
    fd = _open(Path(run_dir), path, required, create)
    if fd is None:
        yield None
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        holder = _read(fd)
        os.close(fd)
        if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise OodcalibError(f"{path}: cannot lock the run directory ({error})") from None
        raise RunLockedError(
            f"{path}: the run directory is in use by {holder}; wait for it to end "
            "or use another run directory (the lock goes when its process ends)"
        ) from None
    try:
        _write(fd, command)
        _HELD[key] = [fd, 1, os.getpid()]
        yield path
    finally:
        _HELD.pop(key, None)
        try:
            os.ftruncate(fd, 0)  # no stale holder in the file
        except OSError:  # pragma: no cover - the file system went read-only
            pass
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextmanager
def unless_locked(run_dir: str | Path) -> Iterator[bool]:
    """For a command that reads a run and may mend a file of it (``summary``).

    Yields True with the lock held (or where it cannot be taken: a read-only or missing
    run directory, which no one writes), False while another process holds it: the
    command then reads what is there and writes nothing.
    """
    stack = ExitStack()
    try:
        stack.enter_context(run_lock(run_dir, required=False, create=False))
        free = True
    except RunLockedError:
        free = False
    with stack:
        yield free


def holds_run_lock(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator: hold the lock of the function's ``run_dir`` (an existing run) while it runs."""
    signature = inspect.signature(func)

    @functools.wraps(func)
    def locked(*args: P.args, **kwargs: P.kwargs) -> R:
        run_dir = signature.bind(*args, **kwargs).arguments["run_dir"]
        with run_lock(run_dir, create=False):
            return func(*args, **kwargs)

    return locked


def _open(run_dir: Path, path: Path, required: bool, create: bool) -> int | None:
    if run_dir.exists() and not run_dir.is_dir():
        raise OodcalibError(f"{run_dir}: the run directory is a file")
    if run_dir.is_symlink() and not run_dir.exists():
        raise OodcalibError(
            f"{run_dir}: the run directory is a symlink to nothing (broken, or a loop)"
        )
    if not create and not run_dir.is_dir():
        return None
    if path.is_symlink():  # never written through: it could point at any file
        raise OodcalibError(f"{path}: the lock file is a symlink; remove it")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
    except OSError as error:
        if not required and error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return None
        raise OodcalibError(
            f"{path}: cannot create the run directory's lock ({error.strerror}); "
            "the run directory must be writable"
        ) from None


def holder_record(command: str | None = None) -> dict:
    """What a holder writes into the lock file: pid, host, command and start time."""
    if command is None:
        command = " ".join(["oodcalib", *sys.argv[1:]]) if sys.argv else "python"
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": command,
        "since": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def _write(fd: int, command: str | None) -> None:
    text = json.dumps(holder_record(command)) + "\n"
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode(), 0)


def _read(fd: int) -> str:
    """The holder, in words, from the lock file (it may not have written it yet)."""
    try:
        record = json.loads(os.pread(fd, 4096, 0).decode())
        return (
            f"PID {record['pid']} on {record['host']} ({record['command']}, "
            f"since {record['since']})"
        )
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (starting: its PID is not written yet)"


__all__ = [
    "LOCK_NAME",
    "RunLockedError",
    "holder_record",
    "holds_run_lock",
    "lock_path",
    "run_lock",
    "unless_locked",
]
