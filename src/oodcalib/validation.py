"""Validating a :class:`~oodcalib.config.Config`: each key's type and range, then rules.

Types and ranges are the annotations of the config dataclasses (``Count`` is a whole
number >= 1, ``Severity`` 1 to 5, ...), checked by pydantic. Each wrong key gets one
line: the key, the value given and what is allowed. :func:`validate_config` runs before
anything is loaded, written or computed (``build_config`` calls it, and
``Config.load`` for a run's ``config.json``).

Example:
    >>> from oodcalib.config import Config
    >>> c = Config()
    >>> c.train.iterations, c.eval.severity = "abc", 9
    >>> validate_config(c)
    Traceback (most recent call last):
    ...
    oodcalib.errors.OodcalibError: invalid configuration:
      train.iterations='abc': must be a whole number (unable to parse string as an integer)
      eval.severity=9: must be <= 5
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from oodcalib.config import Config
from oodcalib.errors import OodcalibError

#: Sources whose files are given by keys of their own: options of another source are errors.
SOURCE_KEYS = {"root": ("phantom", "nifti"), "nifti_images": ("phantom", "acdc", "mscmr_lge"),
               "nifti_labels": ("phantom", "acdc", "mscmr_lge"),
               "label_map": ("phantom", "acdc"), "frame": ("phantom", "acdc")}


@cache
def _adapter() -> TypeAdapter:
    return TypeAdapter(Config)


def validate_config(config: Config) -> Config:
    """The config with every value checked and coerced to its type; raise on a bad key.

    Raises:
        OodcalibError: One line per wrong key (the key, the value, what is allowed),
            or the first rule between keys that fails (:func:`check_rules`).
    """
    raw = dataclasses.asdict(config)
    try:
        valid = _adapter().validate_python(raw)
    except ValidationError as error:
        raise OodcalibError("invalid configuration:\n" + "\n".join(
            f"  {line}" for line in _messages(error, raw))) from None
    check_rules(valid)
    return valid


def check_rules(config: Config) -> None:
    """Rules between keys: fractions that sum to 1, options of the source in use.

    Example:
        >>> from oodcalib.config import build_config
        >>> check_rules(build_config("smoke", ["data.label_map={1: 3}"], validate=False))
        Traceback (most recent call last):
        ...
        oodcalib.errors.OodcalibError: data.label_map is set but data.source is 'phantom', \
which does not use it; remove it or choose the source it belongs to (--data nifti)
    """
    d = config.data
    if abs(sum(d.split_fractions) - 1) > 1e-6:
        raise OodcalibError(f"data.split_fractions={tuple(d.split_fractions)}: the "
                            "train/val/test fractions must sum to 1")
    for key, sources in SOURCE_KEYS.items():
        if getattr(d, key) is not None and d.source in sources:
            owner = "acdc, mscmr_lge or a plugin's" if key == "root" else "nifti"
            raise OodcalibError(f"data.{key} is set but data.source is {d.source!r}, which "
                                f"does not use it; remove it or choose the source it "
                                f"belongs to (--data {owner})")


def _key(loc: tuple) -> list[str]:
    """The config key of an error location (union branches and list indices dropped)."""
    parts: list[str] = []
    target: Any = Config()
    for part in loc:
        if dataclasses.is_dataclass(target) and part in {f.name for f in
                                                         dataclasses.fields(target)}:
            parts.append(part)
            target = getattr(target, part)
        elif isinstance(target, dict):
            parts.append(str(part))
            break
        else:
            break
    return parts


def _messages(error: ValidationError, raw: dict) -> list[str]:
    grouped: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for item in error.errors():
        parts = _key(item["loc"])
        key = ".".join(parts)
        value: Any = raw
        for part in parts:
            value = value.get(part) if isinstance(value, dict) else None
        values[key] = value
        grouped.setdefault(key, [])
        text = _plain(item)
        if text not in grouped[key]:
            grouped[key].append(text)
    return [f"{key}={values[key]!r}: {' or '.join(texts)}" for key, texts in grouped.items()]


def _plain(item: dict) -> str:
    """Pydantic's message in the words of the config (``must be ...``)."""
    kind, message, context = item["type"], item["msg"], item.get("ctx") or {}
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        sign = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=",
                "less_than": "<"}[kind]
        bound = next(iter(context.values()), "")
        return f"must be {sign} {bound}"
    if kind.startswith("int_"):
        return "must be a whole number" + (f" ({message.split(', ', 1)[1]})"
                                           if ", " in message else "")
    if kind == "literal_error":
        return f"must be {context.get('expected', message)}"
    return message[:1].lower() + message[1:]


__all__ = ["check_rules", "validate_config"]
