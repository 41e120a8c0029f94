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
    "refuse_repeated_keys",
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
        if key.strip() == "preset":
            raise OodcalibError(
                f"preset={value}: the preset is chosen with --preset (now {preset!r}), "
                "not set as a key: it names the values every other key starts from"
            )
        set_value(config, key.strip(), value)
    if validate:
        config = validate_config(config)
    return config


def refuse_repeated_keys(overrides: list[str]) -> None:
    """Refuse a key given twice with two values (the command line's one value per key).

    :func:`build_config` applies overrides in order, the later winning, as presets and
    programs need. On the command line, options such as ``--seed`` are overrides too,
    so ``--seed 3 --set seed=5`` gives ``seed`` twice: the CLI refuses it with this,
    instead of using one of the two silently.

    Example:
        >>> refuse_repeated_keys(["seed=3", "train.lr=0.1", "seed=5"])
        Traceback (most recent call last):
        ...
        oodcalib.errors.OodcalibError: seed is given twice, as 3 and as 5 (an option such \
as --seed, --jobs or --losses sets a key too); give it once
    """
    pairs: dict[str, str] = {}
    for item in overrides:
        key, value = item.split("=", 1) if "=" in item else (item, "")
        key = key.strip()
        if key in pairs and parse_value(pairs[key]) != parse_value(value):
            raise OodcalibError(
                f"{key} is given twice, as {pairs[key]} and as {value} (an option such as "
                "--seed, --jobs or --losses sets a key too); give it once"
            )
        pairs[key] = value
