"""The loss registry, building a loss by name, and the helpers the losses share.

A loss is any callable ``loss(logits (N, C, H, W), target (N, H, W) long) -> scalar``.
Register a new one with :func:`register_loss`::

    @register_loss("my_loss", "My loss")
    def my_loss(**hyperparameters) -> Callable: ...
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from oodcalib.errors import OodcalibError, lookup, reject_unknown

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
LOSSES: dict[str, Callable[..., LossFn]] = {}
#: Display names of the losses in tables (``focal`` -> ``FL``), in registry order.
LOSS_NAMES: dict[str, str] = {}


def register_loss(
    name: str, display_name: str | None = None
) -> Callable[[Callable[..., LossFn]], Callable[..., LossFn]]:
    """Decorator registering a loss factory under ``name`` (shown as ``display_name``)."""

    def decorator(factory: Callable[..., LossFn]) -> Callable[..., LossFn]:
        LOSSES[name] = factory
        LOSS_NAMES[name] = display_name or name
        return factory

    return decorator


def get_loss(name: str, **hyperparameters: Any) -> LossFn:
    """Build the loss registered as ``name`` with its hyperparameters.

    Raises:
        UnknownNameError: For an unknown name (the message lists the valid ones).
        OodcalibError: For a hyperparameter the loss does not take (lists the valid ones).

    Example:
        >>> get_loss("dice_ce", alpha=0.1)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        oodcalib.errors.OodcalibError: loss 'dice_ce' has no hyperparameter 'alpha'; valid: ...
    """
    reject_unknown("loss", name, hyperparameters, loss_hyperparameter_names(name))
    return lookup(LOSSES, name, "loss")(**hyperparameters)


def loss_hyperparameter_names(name: str) -> list[str]:
    """Keyword hyperparameters the loss factory registered as ``name`` accepts.

    Example:
        >>> loss_hyperparameter_names("dice_ce")
        ['dice_weight', 'ce_weight']
    """
    factory = lookup(LOSSES, name, "loss")
    return [
        p.name
        for p in inspect.signature(factory).parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


def one_hot(target: torch.Tensor, num_classes: int, dtype: torch.dtype) -> torch.Tensor:
    """One-hot ``(N, C, H, W)`` map of the labels ``(N, H, W)`` in ``dtype``.

    Example:
        >>> one_hot(torch.tensor([[[0, 2]]]), 3, torch.float32)[0, :, 0]
        tensor([[1., 0.],
                [0., 0.],
                [0., 1.]])
    """
    return F.one_hot(target.long(), num_classes).permute(0, 3, 1, 2).to(dtype)


def check_choice(loss: str, name: str, value: str, valid: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``valid``, else raise an error listing them.

    Example:
        >>> check_choice("nacl", "prior", "median", ["mean", "gaussian"])
        Traceback (most recent call last):
        ...
        oodcalib.errors.OodcalibError: loss 'nacl': prior 'median' is not one of mean, gaussian
    """
    if value not in valid:
        raise OodcalibError(f"loss {loss!r}: {name} {value!r} is not one of {', '.join(valid)}")
    return value


def check_number(
    loss: str,
    name: str,
    value: float,
    *,
    low: float = 0.0,
    high: float = math.inf,
    strict: bool = False,
    integer: bool = False,
) -> Any:
    """Return ``value`` (as int if ``integer``) if it is a finite number in its range.

    The range is ``low <= value <= high`` (``low < value`` if ``strict``). This is how a
    loss states its valid ranges: building it (:func:`get_loss`) checks them, before
    any work in a run.

    Example:
        >>> check_number("svls", "sigma", 0, strict=True)
        Traceback (most recent call last):
        ...
        oodcalib.errors.OodcalibError: loss 'svls': sigma must be > 0, got 0
        >>> check_number("ls", "alpha", float("nan"), high=1)
        Traceback (most recent call last):
        ...
        oodcalib.errors.OodcalibError: loss 'ls': alpha must be a finite number, got nan
    """
    if isinstance(value, str):  # "nan", "inf" stay text when an override is parsed
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OodcalibError(f"loss {loss!r}: {name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise OodcalibError(f"loss {loss!r}: {name} must be a finite number, got {value!r}")
    if integer and float(value) != int(value):
        raise OodcalibError(f"loss {loss!r}: {name} must be an integer, got {value!r}")
    number = int(value) if integer else float(value)
    if number < low or (strict and number == low) or number > high:
        bound = f"{'>' if strict else '>='} {low:g}"
        if high < math.inf:
            bound = f"in [{low:g}, {high:g}]" if not strict else f"in ({low:g}, {high:g}]"
        raise OodcalibError(f"loss {loss!r}: {name} must be {bound}, got {value!r}")
    return number
