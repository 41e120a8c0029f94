"""Cross-entropy and the Dice + CE baseline (``ce``, ``dice_ce``).

Notation in every loss module: logits ``l`` of shape ``(N, K, H, W)``, ``p = softmax(l)``
over the class axis, ``y`` the one-hot labels, and "mean" without qualifier the mean over
every element of the tensor it is applied to.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from oodcalib.segmentation.losses.registry import LossFn, check_number, register_loss


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


@register_loss("ce", "CE")
def cross_entropy() -> LossFn:
    """Plain pixel-wise cross-entropy, ``mean_{n,h,w} -log p_y``.

    Example:
        >>> round(float(cross_entropy()(torch.zeros(1, 4, 2, 2), torch.zeros(1, 2, 2).long())), 4)
        1.3863
    """
    return F.cross_entropy


@register_loss("dice_ce", "Dice+CE")
def dice_ce(dice_weight: float = 1.0, ce_weight: float = 1.0) -> LossFn:
    """Soft Dice + cross-entropy, the baseline segmentation loss (our baseline).

    ``ce_weight · CE + dice_weight · soft_dice_loss`` (batch Dice over the foreground).

    Example:
        >>> loss = dice_ce()
        >>> logits, target = torch.zeros(1, 2, 1, 2), torch.tensor([[[0, 1]]])
        >>> round(float(loss(logits, target)), 4)  # ln 2 + 1 − (1 + 1e-5) / (2 + 1e-5)
        1.1931
    """
    check_number("dice_ce", "dice_weight", dice_weight)
    check_number("dice_ce", "ce_weight", ce_weight)

    def loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return ce_weight * F.cross_entropy(logits, target) + dice_weight * soft_dice_loss(
            logits, target
        )

    return loss
