"""Atomic file writes: a crash or a kill never leaves a half-written file behind.

Every file the package writes goes through :func:`atomic_write`: the content is written
to a temporary file in the same folder, then moved in place with :func:`os.replace`
(atomic on POSIX and Windows). Readers see either the old file or the new one. Files get
the permissions of any new file (``0666`` less the user's umask: ``0644`` under the
usual ``022``), as :func:`open` would give them.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any, TypeVar

from oodcalib.errors import DiskFullError

#: What :func:`add_totals` adds up: counts (int) or seconds (float).
Amount = TypeVar("Amount", int, float)


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], object]) -> Path:
    """Call ``write(handle)`` on a temporary binary file, then move it to ``path``.

    The parent folder is created if needed. On any error the temporary file is removed
    and ``path`` is left as it was.

    Args:
        path: Destination file.
        write: Writes the content to the open binary handle it is given (what it
            returns is ignored).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Example:
        >>> import tempfile
        >>> target = Path(tempfile.mkdtemp()) / "a" / "b.txt"
        >>> atomic_write(target, lambda f: f.write(b"hi")).read_text()
        'hi'
    """
    path = Path(path)
    with naming_full_disk(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _create_temporary(path)
        try:
            with os.fdopen(fd, "wb") as handle:
                write(handle)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return path


def _create_temporary(path: Path) -> tuple[int, Path]:
    """Create a new hidden temporary file beside ``path``; return its descriptor and path.

    Unlike :func:`tempfile.mkstemp` (always ``0600``), the file is created with mode
    ``0666``, which the kernel narrows by the user's umask, so the file moved in place
    has the permissions the user chose for new files.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:  # pragma: no cover - 1 in 4 billion
            continue
    raise FileExistsError(f"{path}: no free temporary name beside it")  # pragma: no cover


@contextmanager
def naming_full_disk(path: str | Path) -> Iterator[None]:
    """Turn "no space left on device" (``Errno 28``, or over quota) into an error naming ``path``.

    A write through an open file raises ``OSError(28)`` without a file name; this says
    which file could not be written, and that nothing finished is lost.

    Raises:
        DiskFullError: The device of ``path`` is full.
    """
    try:
        yield
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        free = ""
        probe = Path(path).parent
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        with suppress(OSError):
            free = f" ({shutil.disk_usage(probe).free / 2**20:.0f} MiB free)"
        raise DiskFullError(
            path,
            f"cannot write: no space left on its device{free}; free some space and run "
            "the same command again (finished work is kept and not redone)",
        ) from error


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 text atomically."""
    return atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def write_json(path: str | Path, obj: Any, **kwargs: Any) -> Path:
    """Write ``obj`` as indented JSON (plus a final newline) atomically."""
    return write_text(path, json.dumps(obj, indent=2, **kwargs) + "\n")


def read_json_object(path: str | Path, on_damage: str | None = None) -> dict[str, Any]:
    """The JSON object stored in ``path``, or ``{}`` when there is none to read.

    A missing file gives ``{}`` silently. So does a damaged one (unreadable, not JSON or
    not an object), with a warning naming the file when ``on_damage`` says what happens next.

    Example:
        >>> import tempfile, warnings
        >>> path = Path(tempfile.mkdtemp()) / "state.json"
        >>> read_json_object(path)
        {}
        >>> _ = path.write_text("[1, 2]")
        >>> with warnings.catch_warnings(record=True) as caught:  # doctest: +ELLIPSIS
        ...     warnings.simplefilter("always")
        ...     print(read_json_object(path, on_damage="starting again"), caught[0].message)
        {} ...state.json: damaged (not a JSON object); starting again
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:  # a bookkeeping file: the caller starts again
        if on_damage is not None:
            import warnings

            warnings.warn(f"{path}: damaged ({error}); {on_damage}", UserWarning, stacklevel=3)
        return {}
    return raw


def add_totals(
    path: str | Path, amounts: Mapping[str, Amount], ndigits: int | None = None
) -> dict[str, Amount]:
    """Add ``amounts`` to the per-name totals stored as JSON in ``path``; return them.

    Totals are written sorted by name (rounded to ``ndigits`` if given), so counts of
    several sessions on one run add up.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "totals.json"
        >>> add_totals(path, {"b": 1, "a": 2}) == {"a": 2, "b": 1}
        True
        >>> add_totals(path, {"a": 3})
        {'a': 5, 'b': 1}
    """
    path = Path(path)
    totals = read_json_object(path, on_damage="counting starts again")
    for name, amount in amounts.items():
        totals[name] = totals.get(name, 0) + amount
    if ndigits is not None:
        totals = {name: round(value, ndigits) for name, value in totals.items()}
    totals = dict(sorted(totals.items()))
    write_json(path, totals)
    return totals


def write_csv(path: str | Path, frame: Any) -> Path:
    """Write a pandas DataFrame as CSV (no index) atomically; gzipped if ``path`` ends in .gz.

    The gzip header carries no time stamp, so the same frame always gives the same bytes.
    """
    compression = {"method": "gzip", "mtime": 0} if str(path).endswith(".gz") else None
    return atomic_write(path, lambda f: frame.to_csv(f, index=False, compression=compression))


def save_torch(path: str | Path, obj: Any) -> Path:
    """``torch.save`` ``obj`` atomically (torch is imported only here)."""
    import torch

    return atomic_write(path, lambda f: torch.save(obj, f))


def load_torch(path: str | Path) -> Any:
    """Read an object written by :func:`save_torch` (fits, checkpoints: trusted pickles).

    Tensors load on the CPU, whichever device wrote them.
    """
    import torch

    return torch.load(path, map_location="cpu", weights_only=False)


#: What a damaged file raises when read (truncated zip/npz/pickle, bad CSV or JSON, ...).
DAMAGED = (
    OSError,
    ValueError,
    EOFError,
    KeyError,
    RuntimeError,
    IndexError,
    TypeError,
    AttributeError,
    ImportError,
)


def read_cache(path: str | Path, read: Callable[[Path], Any], what: str) -> Any:
    """``read(path)``, or None: the cache file is absent, or damaged (then removed).

    Atomic writes never leave half-written files, but disks and users can: a cache that
    does not read back is never trusted. A warning names the file.

    Example:
        >>> import tempfile, warnings
        >>> bad = Path(tempfile.mkdtemp()) / "x.json"
        >>> _ = bad.write_text('{"cut')
        >>> with warnings.catch_warnings(record=True):
        ...     warnings.simplefilter("always")
        ...     read_cache(bad, lambda p: json.loads(p.read_text()), "test"), bad.exists()
        (None, False)
    """
    import pickle
    import warnings
    import zipfile

    path = Path(path)
    if not path.exists():
        return None
    try:
        return read(path)
    except (*DAMAGED, pickle.UnpicklingError, zipfile.BadZipFile) as error:
        warnings.warn(
            f"{path}: damaged {what} ({type(error).__name__}: {error}); it is recomputed",
            UserWarning,
            stacklevel=2,
        )
        path.unlink(missing_ok=True)
        return None
