"""``key=value`` overrides: parsing a value and setting a dotted key on a config.

Works on any tree of dataclasses, so it knows nothing of the config's sections.
"""

from __future__ import annotations

import ast
import dataclasses
from typing import Any

from oodcalib.errors import OodcalibError


def set_value(config: Any, dotted: str, value: Any) -> None:
    """Set ``section.key`` (or a top-level key) on ``config``, coercing the type.

    A key under a dict-valued field (``calib``, ``train.loss_params``, ``data.label_map``)
    sets an entry of that dict: ``calib.lts.lr`` sets ``config.calib["lts"]["lr"]``.
    Which names such entries may take is checked where they are used (the calibrator or
    loss lists its valid hyperparameters).

    Raises:
        OodcalibError: If the key does not exist; the message lists the valid keys.

    Example:
        >>> from oodcalib.config import Config
        >>> c = Config()
        >>> set_value(c, "calib.lts.lr", "1e-4")
        >>> set_value(c, "train.loss_params.alpha", "0.1")
        >>> c.calib, c.train.loss_params
        ({'lts': {'lr': 0.0001}}, {'alpha': 0.1})
    """
    target: Any = config
    parts = dotted.split(".")
    for depth, part in enumerate(parts):
        if not dataclasses.is_dataclass(target):
            raise OodcalibError(f"unknown config section {part!r} in {dotted!r}")
        names = [f.name for f in dataclasses.fields(target)]
        if part not in names:
            where = "here " if depth else ""
            raise OodcalibError(
                f"unknown config key {dotted!r}; valid keys {where}are: {', '.join(names)}"
            )
        current = getattr(target, part)
        if isinstance(current, dict) and depth < len(parts) - 1:
            _set_entry(current, parts[depth + 1 :], value, dotted)
            return
        if depth == len(parts) - 1:
            setattr(target, part, _coerce(current, value))
            return
        target = current


def _set_entry(mapping: dict, keys: list[str], value: Any, dotted: str) -> None:
    """Set ``mapping[k0][k1]...`` to the parsed ``value``, creating inner dicts."""
    for key in keys[:-1]:
        inner = mapping.setdefault(key, {})
        if not isinstance(inner, dict):
            raise OodcalibError(f"config key {dotted!r}: {key!r} holds a value, not a section")
        mapping = inner
    mapping[keys[-1]] = parse_value(value) if isinstance(value, str) else value


def _coerce(current: Any, value: Any) -> Any:
    """Parse a string override and match the container type of the current value."""
    if isinstance(value, str) and not isinstance(current, str):
        value = parse_value(value)
    if isinstance(current, list) and not isinstance(value, list):
        value = [value]
    if isinstance(current, tuple) and isinstance(value, list):
        value = tuple(value)
    if isinstance(current, float) and isinstance(value, int):
        value = float(value)
    return value


def parse_value(text: str) -> Any:
    """Parse an override value: Python/JSON literals, else a plain string."""
    lowered = text.strip().lower()
    if lowered in {"none", "null"}:
        return None
    if lowered in {"true", "false"}:
        return lowered == "true"
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        if "," in text:
            return [parse_value(part) for part in text.split(",") if part.strip()]
        return text
