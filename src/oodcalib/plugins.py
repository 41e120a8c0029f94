"""User extensions: modules imported before a run so that they fill the registries.

A plugin is a Python file or an importable module that adds entries to the plain-dict
registries (``CALIBRATORS``, ``LOSSES``, ``METRICS``, ``CORRUPTIONS``, ``SOURCES``) when it
is imported. Name plugins with ``--plugin`` (or ``--set plugins=...``); they are recorded in
the run's ``config.json`` and imported again in every worker process, so parallel and
distributed runs see the same registries.

Rules (``docs/reliability.md``):

* **Adding** a name is all a plugin usually does. **Replacing** a name a registry already
  holds (a built-in, or another plugin's) is refused, unless the plugin declares it,
  registry by registry, in a module-level ``OVERRIDE``::

      from oodcalib.baselines import CALIBRATORS
      CALIBRATORS["ts"] = MyTemperatureScaling
      OVERRIDE = {"CALIBRATORS": ["ts"]}

  A refused plugin leaves every registry as it found it.
* An exception raised while a plugin is imported, and its ``sys.exit(n)``, become a
  one-line error naming the plugin. Inside a plugin's calibrator, :func:`plugin_call`
  turns them into a :class:`PluginError` naming the plugin, the method and the step
  (``fit``, ``predict``); the benchmark scores the other methods, keeps their results and
  reports it at the end.

Each registry module hands its registry to :func:`declare_registry` once its built-ins
are in, which is how replacements are told from additions.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from oodcalib.errors import OodcalibError

#: The registries a plugin fills, by the names ``OVERRIDE`` uses, and what their names are.
REGISTRIES: dict[str, str] = {
    "CALIBRATORS": "method",
    "CORRUPTIONS": "corruption",
    "LOSSES": "loss",
    "METRICS": "metric",
    "SOURCES": "data source",
}
#: Registries declared so far (imported): name -> (the registry, its kind of name).
_REGISTRIES: dict[str, tuple[dict, str]] = {}
#: Each registry's entries when it was declared (the built-ins).
_BUILT_IN: dict[str, dict] = {}
#: Dicts kept beside a registry (``LOSS_NAMES``): restored with it, never checked.
_COMPANIONS: dict[str, dict] = {}
#: Modules imported by :func:`load_plugin` -> the plugin as it was named.
_LOADED: dict[str, str] = {}


class PluginError(OodcalibError):
    """A plugin's code failed (an exception or ``sys.exit``); the message names it."""


def declare_registry(name: str, registry: dict, *companions: dict) -> None:
    """Make ``registry`` (holding its built-ins now) known to the override check.

    Args:
        name: The registry's variable name (a key of :data:`REGISTRIES`), as a
            plugin's ``OVERRIDE`` names it.
        registry: The plain dict.
        companions: Dicts a registration fills beside it (display names), put back
            with it when a plugin is refused.
    """
    _REGISTRIES[name] = (registry, REGISTRIES[name])
    _BUILT_IN[name] = dict(registry)
    for index, companion in enumerate(companions):
        _COMPANIONS[f"{name}.{index}"] = companion
        _BUILT_IN[f"{name}.{index}"] = dict(companion)


def load_plugin(name: str) -> ModuleType:
    """Import one plugin: a ``.py`` file path or a dotted module name (idempotent).

    Raises:
        OodcalibError: If the file is missing or the import fails, exits or replaces a
            registered name without declaring it in ``OVERRIDE`` (the message names the
            plugin). The registries are then as they were before.
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
        loader = spec.loader
        return _guarded_import(name, module_name, lambda: _exec(module, module_name, loader))
    if name in sys.modules:
        return sys.modules[name]
    return _guarded_import(name, name, lambda: importlib.import_module(name))


def load_plugins(names: Iterable[str]) -> list[ModuleType]:
    """Import every plugin of ``names``, in order."""
    return [load_plugin(name) for name in names]


def _exec(module: ModuleType, module_name: str, loader: Any) -> ModuleType:
    sys.modules[module_name] = module
    loader.exec_module(module)
    return module


def _guarded_import(name: str, module_name: str, run) -> ModuleType:
    """Import through ``run()``, undoing it (module and registries) if it fails or cheats."""
    before = {key: dict(registry) for key, (registry, _) in _REGISTRIES.items()}
    before |= {key: dict(companion) for key, companion in _COMPANIONS.items()}
    try:
        module = run()
    except BaseException as error:
        _undo(module_name, before)
        if isinstance(error, KeyboardInterrupt):
            raise
        missing = getattr(error, "name", None) or ""
        if (
            isinstance(error, ModuleNotFoundError)
            and module_name == name
            and (name == missing or name.startswith(missing + "."))
        ):  # the plugin module itself
            raise OodcalibError(f"cannot import plugin module {name!r}: {error}") from None
        if isinstance(error, SystemExit):
            raise PluginError(
                f"{name}: plugin called sys.exit({error.code!r}) while being imported"
            ) from None
        raise PluginError(
            f"{name}: plugin failed to import ({type(error).__name__}: {error})"
        ) from error
    try:
        _check_overrides(name, module, before)
    except OodcalibError:
        _undo(module_name, before)
        raise
    _LOADED[module_name] = name
    return module


def _check_overrides(name: str, module: ModuleType, before: dict[str, dict]) -> None:
    """Refuse a replaced or removed registry name that ``module.OVERRIDE`` does not declare."""
    allowed = _declared(name, getattr(module, "OVERRIDE", {}))
    for key, (registry, kind) in _REGISTRIES.items():
        old = before.get(key, _BUILT_IN[key])  # a registry first imported by the plugin
        for entry, value in old.items():
            replaced = entry not in registry or registry[entry] is not value
            if replaced and entry not in allowed.get(key, ()):
                how = "replaces" if entry in registry else "removes"
                raise OodcalibError(
                    f"{name}: plugin {how} the registered {kind} {entry!r} ({key}); "
                    f"a plugin may do so only if it declares "
                    f'OVERRIDE = {{"{key}": ["{entry}"]}}'
                )


def _declared(name: str, declared: Any) -> dict[str, set[str]]:
    """The plugin's ``OVERRIDE``, checked: ``{registry name: names}``."""
    if not isinstance(declared, dict) or not all(
        isinstance(v, list | tuple | set | frozenset) and all(isinstance(n, str) for n in v)
        for v in declared.values()
    ):
        raise OodcalibError(
            f"{name}: OVERRIDE must map registry names to lists of names, e.g. "
            f'{{"CALIBRATORS": ["ts"]}}; got {declared!r}'
        )
    unknown = sorted(set(declared) - set(REGISTRIES))
    if unknown:
        raise OodcalibError(
            f"{name}: OVERRIDE names unknown registr{'ies' if len(unknown) > 1 else 'y'} "
            f"{', '.join(unknown)}; valid: {', '.join(REGISTRIES)}"
        )
    return {key: set(values) for key, values in declared.items()}


def _undo(module_name: str, before: dict[str, dict]) -> None:
    sys.modules.pop(module_name, None)
    dicts = {key: registry for key, (registry, _) in _REGISTRIES.items()} | _COMPANIONS
    for key, registry in dicts.items():
        registry.clear()
        registry.update(before.get(key, _BUILT_IN[key]))


def plugin_of(obj: Any) -> str | None:
    """The plugin (as named) that defined ``obj`` or its class; None for package code.

    Code outside the package that no plugin brought (a ``package.module:Class`` method
    name) is named by its module.
    """
    target = obj if isinstance(obj, type) else type(obj)
    module = getattr(target, "__module__", "") or ""
    for loaded, name in _LOADED.items():
        if module == loaded or module.startswith(loaded + "."):
            return name
    if module == "oodcalib" or module.startswith("oodcalib."):
        return None
    return module or None


@contextmanager
def plugin_call(obj: Any, what: str) -> Iterator[None]:
    """Name the plugin when plugin code called in the block raises or calls ``sys.exit``.

    Args:
        obj: The plugin's object (a calibrator, ...) whose code runs in the block.
        what: What runs, for the message (``method 'vs' fit``).

    Raises:
        PluginError: One line: the plugin, ``what``, and the error (or the exit code).
            Package code (``plugin_of`` is None), and a plugin's own
            :class:`~oodcalib.errors.OodcalibError`, raise as they would.
    """
    origin = plugin_of(obj)
    if origin is None:
        yield
        return
    try:
        yield
    except SystemExit as error:
        raise PluginError(f"plugin {origin}: {what} called sys.exit({error.code!r})") from None
    except OodcalibError:  # a plugin's own clear error (bad input) stands as it is
        raise
    except Exception as error:
        raise PluginError(
            f"plugin {origin}: {what} failed ({type(error).__name__}: {error})"
        ) from error


__all__ = [
    "REGISTRIES",
    "PluginError",
    "declare_registry",
    "load_plugin",
    "load_plugins",
    "plugin_call",
    "plugin_of",
]
