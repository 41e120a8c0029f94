"""Errors raised for bad input and unknown names, and the registry lookup helper."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class OodcalibError(Exception):
    """Base class of every error the package raises on purpose."""


class DataError(OodcalibError, ValueError):
    """A data file is missing, unreadable or inconsistent.

    Args:
        path: The offending file or directory (or a case id when there is no file).
        problem: What is wrong, in words a user can act on.
    """

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self):  # rebuilt from (path, problem) in another process
        return type(self), (self.path, self.problem)


class DiskFullError(DataError):
    """A file could not be written because its device is full (or over quota)."""


class UnknownNameError(OodcalibError, KeyError):
    """A name (preset, method, corruption, loss, ...) that no registry holds."""

    def __init__(self, kind: str, name: str, valid: list[str]):
        self.kind, self.name, self.valid = kind, name, sorted(valid)
        super().__init__(f"unknown {kind} {name!r}; valid names are: {', '.join(self.valid)}")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])

    def __reduce__(self):  # rebuilt from (kind, name, valid) in another process
        return type(self), (self.kind, self.name, self.valid)


def reject_unknown(kind: str, owner: str, given: Iterable[str], valid: Sequence[str]) -> None:
    """Raise if ``given`` holds a hyperparameter name not in ``valid`` (the message lists them).

    Example:
        >>> reject_unknown("loss", "ce", ["alpha"], [])
        Traceback (most recent call last):
        ...
        oodcalib.errors.OodcalibError: loss 'ce' has no hyperparameter 'alpha'; valid: none
    """
    unknown = sorted(set(given) - set(valid))
    if unknown:
        raise OodcalibError(
            f"{kind} {owner!r} has no hyperparameter "
            f"{', '.join(map(repr, unknown))}; valid: {', '.join(valid) or 'none'}"
        )


def lookup(registry: Mapping[str, T], name: str, kind: str) -> T:
    """Return ``registry[name]`` or raise an error listing the valid names.

    A name of the form ``package.module:attribute`` is imported instead, so user code
    (a calibrator, a loss) can be plugged in from the command line without editing the
    registry.

    Args:
        registry: A plain mapping of names to objects.
        name: The requested name (case-insensitive, ``-`` and ``_`` equivalent).
        kind: What the names are, for the message ("method", "corruption", ...).

    Returns:
        The registered object.

    Raises:
        UnknownNameError: If ``name`` is not registered.

    Example:
        >>> lookup({"ts": 1}, "TS", "method")
        1
        >>> lookup({"ts": 1}, "lts", "method")
        Traceback (most recent call last):
        ...
        oodcalib.errors.UnknownNameError: unknown method 'lts'; valid names are: ts
    """
    if ":" in name:
        return _import(name, kind)
    key = name.strip().lower().replace("-", "_")
    if key not in registry:
        raise UnknownNameError(kind, name, list(registry))
    return registry[key]


def _import(path: str, kind: str):
    import importlib

    module_name, _, attribute = path.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise OodcalibError(f"cannot import {kind} {path!r}: {error}") from error
