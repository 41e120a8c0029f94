"""Training losses for the segmentation network, chosen by name from a registry.

A loss is any callable ``loss(logits (N, C, H, W), target (N, H, W) long) -> scalar``.
Register a new one with :func:`register_loss` (train-time calibration losses such as
NACL, SVLS, MbLS or mL1-ACE plug in here)::

    @register_loss("my_loss")
    def my_loss(**hyperparameters) -> Callable: ...
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import torch
import torch.nn.functional as F

from oodcalib.errors import lookup, reject_unknown

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
LOSSES: dict[str, Callable[..., LossFn]] = {}


def register_loss(name: str) -> Callable[[Callable[..., LossFn]], Callable[..., LossFn]]:
    """Decorator registering a loss factory under ``name``."""

    def decorator(factory: Callable[..., LossFn]) -> Callable[..., LossFn]:
        LOSSES[name] = factory
        return factory

    return decorator


def get_loss(name: str, **hyperparameters: float) -> LossFn:
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
    return [p.name for p in inspect.signature(factory).parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def soft_dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Batch soft Dice loss over the foreground classes.

    ``1 - mean_c (2 Σ p_c y_c + eps) / (Σ p_c + Σ y_c + eps)`` with sums over the batch
    and pixels, for classes ``c >= 1``.

    Example:
        >>> t = torch.tensor([[[0, 1], [2, 3]]])
        >>> perfect = 100 * F.one_hot(t, 4).permute(0, 3, 1, 2).float()
        >>> round(float(soft_dice_loss(perfect, t)), 4)
        0.0
    """
    probs = logits.softmax(dim=1)
    onehot = F.one_hot(target, logits.shape[1]).permute(0, 3, 1, 2).to(probs.dtype)
    dims = (0, 2, 3)
    intersection = (probs * onehot).sum(dims)
    denominator = probs.sum(dims) + onehot.sum(dims)
    dice = (2 * intersection + eps) / (denominator + eps)
    return 1 - dice[1:].mean()


@register_loss("dice_ce")
def dice_ce(dice_weight: float = 1.0, ce_weight: float = 1.0) -> LossFn:
    """Soft Dice + cross-entropy, the baseline segmentation loss."""

    def loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return ce_weight * F.cross_entropy(logits, target) + dice_weight * soft_dice_loss(
            logits, target
        )

    return loss


@register_loss("ce")
def cross_entropy() -> LossFn:
    """Plain pixel-wise cross-entropy."""
    return F.cross_entropy
