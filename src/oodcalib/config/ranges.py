"""Types with a range, and checking values against them in the config's words.

The sections of the configuration (:mod:`oodcalib.config.sections`) annotate their keys
with these types, and so do the calibrators (their ``parameter_ranges``): pydantic
checks a value against its type, and :func:`check_ranges` turns what it says into one
line per key (``calib.lts.lr=-1: must be > 0``).

Example:
    >>> check_ranges({"lr": LearningRate, "iterations": Count},
    ...              {"lr": float("inf"), "iterations": 0}, "calib.lts")
    ['calib.lts.lr=inf: must be a finite number', 'calib.lts.iterations=0: must be >= 1']
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

Count = Annotated[int, Field(ge=1)]  #: a whole number >= 1
Fraction = Annotated[float, Field(ge=0, le=1)]
Side = Annotated[int, Field(ge=8, le=4096)]  #: an image side in pixels
Severity = Annotated[int, Field(ge=1, le=5)]
ClassCode = Annotated[int, Field(ge=0, le=3)]  #: 0 background, 1 RV, 2 MYO, 3 LV
#: A finite number > 0 (``inf`` and ``nan`` are refused: they train nothing)
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
#: A finite number >= 0 (a loss weight, a penalty)
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
#: An optimiser's learning rate: finite and > 0
LearningRate = Positive
#: Channels of a network's first level (doubled per level below)
Width = Annotated[int, Field(ge=1, le=4096)]
#: A dropout probability
Dropout = Annotated[float, Field(ge=0, lt=1)]


@cache
def _adapter(kind: Any) -> TypeAdapter:
    return TypeAdapter(kind)


def check_ranges(ranges: Mapping[str, Any], values: Mapping[str, Any], prefix: str) -> list[str]:
    """One line per value of ``values`` outside its range in ``ranges`` (empty: all valid).

    Names ``ranges`` does not hold are not checked (a plugin may declare none).

    Args:
        ranges: Name -> type with a range (this module's types, or any pydantic type).
        values: Name -> value given.
        prefix: The config section the names belong to, for the messages.
    """
    lines = []
    for name, value in values.items():
        if name not in ranges:
            continue
        try:
            _adapter(ranges[name]).validate_python(value)
        except ValidationError as error:
            texts = list(dict.fromkeys(plain_message(item) for item in error.errors()))
            lines.append(f"{prefix}.{name}={value!r}: {' or '.join(texts)}")
    return lines


def plain_message(item: ErrorDetails) -> str:
    """Pydantic's message in the words of the config (``must be ...``).

    Example:
        >>> plain_message({"type": "greater_than", "msg": "", "ctx": {"gt": 0}})
        'must be > 0'
    """
    kind, message, context = item["type"], item["msg"], item.get("ctx") or {}
    signs = {
        "greater_than_equal": ">=",
        "greater_than": ">",
        "less_than_equal": "<=",
        "less_than": "<",
    }
    if kind in signs:
        bound = next(iter(context.values()), "")
        return (
            f"must be {signs[kind]} {bound:g}"
            if isinstance(bound, float)
            else (f"must be {signs[kind]} {bound}")
        )
    if kind == "finite_number":
        return "must be a finite number"
    if kind == "too_short":
        return f"must hold at least {context.get('min_length', 1)} item(s)"
    if kind.startswith("int_"):
        return "must be a whole number" + (
            f" ({message.split(', ', 1)[1]})" if ", " in message else ""
        )
    if kind == "literal_error":
        return f"must be {context.get('expected', message)}"
    return message[:1].lower() + message[1:]
