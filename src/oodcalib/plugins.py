"""User extensions: modules imported before a run so that they fill the registries.

A plugin is a Python file or an importable module that adds entries to the plain-dict
registries (``CALIBRATORS``, ``LOSSES``, ``METRICS``, ``CORRUPTIONS``, ``SOURCES``) when it
is imported. Name plugins with ``--plugin`` (or ``--set plugins=...``); they are recorded in
the run's ``config.json`` and imported again in every worker process, so parallel and
distributed runs see the same registries.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import zlib
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from oodcalib.errors import OodcalibError


def load_plugin(name: str) -> ModuleType:
    """Import one plugin: a ``.py`` file path or a dotted module name (idempotent).

    Raises:
        OodcalibError: If the file is missing or the import fails (the message names it).
    """
    if name.endswith(".py"):
        path = Path(name).expanduser().resolve()
        if not path.is_file():
            raise OodcalibError(f"{name}: plugin file not found")
        module_name = f"oodcalib_plugin_{path.stem}_{zlib.crc32(str(path).encode()):08x}"
        if module_name in sys.modules:
            return sys.modules[module_name]
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None  # a .py file always has a loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as error:
            del sys.modules[module_name]
            raise OodcalibError(
                f"{name}: plugin failed to import ({type(error).__name__}: {error})"
            ) from error
        return module
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise OodcalibError(f"cannot import plugin module {name!r}: {error}") from error


def load_plugins(names: Iterable[str]) -> list[ModuleType]:
    """Import every plugin of ``names``, in order."""
    return [load_plugin(name) for name in names]
