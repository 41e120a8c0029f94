"""Globbing data files safely: symlink loops are never followed, each file is found once.

:func:`glob_files` matches a pattern like :func:`glob.glob` with ``recursive=True`` (``*``,
``?``, ``[...]`` within a folder, ``**`` across folders, hidden names only when the pattern
spells the dot), with two differences that keep a data set's scans apart:

* ``**`` enters every folder once, by its real path. A symlink to a folder already
  entered, to the folder the walk started from or to one of its parents (``self -> .``,
  ``back -> ..``) is skipped, so a loop neither hangs the glob nor multiplies its files.
  A symlink to a folder elsewhere (``data/vendorA -> /mnt/vendorA``) is followed once.
* Two matches that are the same file (a symlink and its target) give one path: the one
  that is not a link, else the first in sorted order. :func:`unique_files` does the same
  for any list of paths.

The sources that read files (:mod:`~oodcalib.datasets.sources`) use them, so a scan can
never enter two splits under two names (see :mod:`~oodcalib.datasets.leakage`).
"""

from __future__ import annotations

import fnmatch
import os
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

_MAGIC = frozenset("*?[")


def glob_files(pattern: str | os.PathLike) -> list[Path]:
    """Files matching ``pattern``, sorted, each real file once, no symlink loop followed.

    Args:
        pattern: A glob pattern (``~`` expanded); ``**`` spans any number of folders.

    Returns:
        The matching files (not folders), as the pattern spells them (not resolved).

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> (root / "a").mkdir(); _ = (root / "a" / "x.nii").write_text("")
        >>> (root / "a" / "self").symlink_to(root / "a")   # a loop
        >>> [p.relative_to(root).as_posix() for p in glob_files(f"{root}/**/*.nii")]
        ['a/x.nii']
    """
    text = os.path.expanduser(os.fspath(pattern))
    absolute = text.startswith(os.sep)
    parts = [p for p in text.split(os.sep) if p]
    start = os.sep if absolute else ""
    literal = 0
    while literal < len(parts) and not _MAGIC & set(parts[literal]):
        literal += 1
    base = os.path.join(start, *parts[:literal]) if literal else start
    rest = parts[literal:]
    if not rest:
        return [Path(base)] if base and os.path.isfile(base) else []
    found = sorted(set(_match(base, rest, os.path.realpath(base or "."))))
    return unique_files(found)


def unique_files(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """``paths`` sorted, with the paths to an already listed real file left out.

    Of the paths to one file, the one that is not a symlink (its real path) is kept, else
    the first in sorted order; a warning says how many were left out.

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> _ = (root / "b.nii").write_text("")
        >>> (root / "a.nii").symlink_to(root / "b.nii")
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     [p.name for p in unique_files([root / "a.nii", root / "b.nii"])]
        ['b.nii']
    """
    by_real: dict[str, list[Path]] = {}
    for path in sorted(Path(p) for p in paths):
        by_real.setdefault(os.path.realpath(path), []).append(path)
    kept, dropped = [], []
    for real, group in by_real.items():
        plain = [p for p in group if os.path.abspath(p) == real]
        keep = plain[0] if plain else group[0]
        kept.append(keep)
        dropped += [(p, keep) for p in group if p != keep]
    if dropped:
        shown = ", ".join(f"{p} (= {k})" for p, k in dropped[:3])
        warnings.warn(
            f"{len(dropped)} path(s) lead to a file already found and were left out, "
            f"each file being read once: {shown}{' ...' if len(dropped) > 3 else ''}",
            UserWarning,
            stacklevel=2,
        )
    return sorted(kept)


def _match(directory: str, parts: list[str], root: str) -> Iterator[str]:
    """Paths under ``directory`` matching the components ``parts`` (files at the end)."""
    part, rest = parts[0], parts[1:]
    if part == "**":
        for folder in _walk(directory, root, set()):
            yield from _match(folder, rest, root) if rest else _files_in(folder)
        return
    if not _MAGIC & set(part):
        names = [part] if os.path.lexists(os.path.join(directory or ".", part)) else []
    else:
        names = [
            n
            for n in _listdir(directory)
            if fnmatch.fnmatchcase(n, part) and (part.startswith(".") or not n.startswith("."))
        ]
    for name in names:
        path = os.path.join(directory, name) if directory else name
        if not rest:
            if os.path.isfile(path):
                yield path
        elif os.path.isdir(path):
            yield from _match(path, rest, root)


def _walk(directory: str, root: str, visited: set[str]) -> Iterator[str]:
    """``directory`` and the folders below it, each real folder once per walk (``**``).

    Hidden folders are skipped, as :mod:`glob` does; so is a folder whose real path was
    entered already, or is the root of the walk or one of its parents (a loop).
    """
    real = os.path.realpath(directory or ".")
    if real in visited:
        return
    visited.add(real)
    yield directory
    for name in _listdir(directory):
        path = os.path.join(directory, name) if directory else name
        if name.startswith(".") or not os.path.isdir(path):
            continue
        target = os.path.realpath(path)
        if target in visited or _is_parent(target, root):
            continue
        yield from _walk(path, root, visited)


def _files_in(directory: str) -> Iterator[str]:
    """Every non-hidden file of ``directory`` (a pattern ending in ``**``)."""
    for name in _listdir(directory):
        path = os.path.join(directory, name) if directory else name
        if not name.startswith(".") and os.path.isfile(path):
            yield path


def _is_parent(path: str, of: str) -> bool:
    """Whether ``path`` is ``of`` or one of its parent folders (real paths)."""
    return of == path or of.startswith(path.rstrip(os.sep) + os.sep)


def _listdir(directory: str) -> list[str]:
    try:
        return sorted(os.listdir(directory or "."))
    except OSError:  # unreadable or vanished, as glob.glob ignores it
        return []


__all__ = ["glob_files", "unique_files"]
