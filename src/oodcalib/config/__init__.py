"""Run configuration: typed sections, named presets and ``key=value`` overrides.

A run is fully described by one :class:`Config`. Presets (:data:`PRESETS`, defined in
:mod:`oodcalib.presets` and re-exported here) are plain dicts of overrides applied to the
defaults, so ``oodcalib run --preset quick --set train.iterations=500`` and the resolved
``config.json`` in the run directory say exactly what was run.

- :mod:`~oodcalib.config.sections`: the sections and the range of every key;
- :mod:`~oodcalib.config.run_config`: :class:`Config` and its validation;
- :mod:`~oodcalib.config.overrides`: parsing and setting ``key=value`` overrides.
"""

from __future__ import annotations

from typing import Any

from oodcalib.config.overrides import parse_value, set_value
from oodcalib.config.run_config import Config, check_rules, validate_config
from oodcalib.config.sections import (
    PATH_KEYS,
    DataConfig,
    EvalConfig,
    ModelConfig,
    TrainConfig,
    absolute_path,
)
from oodcalib.errors import OodcalibError, lookup
from oodcalib.presets import PRESETS

__all__ = [
    "PATH_KEYS",
    "PRESETS",
    "Config",
    "DataConfig",
    "EvalConfig",
    "ModelConfig",
    "TrainConfig",
    "absolute_path",
    "build_config",
    "check_rules",
    "parse_value",
    "set_value",
    "validate_config",
]


def build_config(
    preset: str = "quick", overrides: list[str] | None = None, validate: bool = True, **kw: Any
) -> Config:
    """Resolve a preset plus ``key=value`` overrides into a :class:`Config`.

    Args:
        preset: One of :data:`PRESETS`.
        overrides: Strings like ``"train.iterations=500"``.
        validate: Check every key's type and range and the rules between keys
            (:func:`validate_config`).
        **kw: Extra dotted overrides given as keyword pairs (``{"data.source": "acdc"}``
            style keys must be passed through ``overrides``; plain ``seed=1`` works here).

    Example:
        >>> c = build_config("smoke", ["train.iterations=3", "eval.methods=uc,ts"])
        >>> c.train.iterations, c.eval.methods, c.data.size
        (3, ['uc', 'ts'], 64)
    """
    config = Config(preset=preset)
    for key, value in lookup(PRESETS, preset, "preset").items():
        set_value(config, key, value)
    for key, value in kw.items():
        if value is not None:
            set_value(config, key.replace("__", "."), value)
    for item in overrides or []:
        if "=" not in item:
            raise OodcalibError(f"override {item!r} must look like key=value")
        key, value = item.split("=", 1)
        set_value(config, key.strip(), value)
    if validate:
        config = validate_config(config)
    return config
