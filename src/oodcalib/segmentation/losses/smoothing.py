"""Pixel-wise confidence penalties: label smoothing, focal loss, entropy penalty.

``ls``, ``focal`` and ``ecp``, as in the NACL/MbLS authors' code (Bala93/MarginLoss).
All work on ``log_softmax`` so that saturated logits give finite values and gradients.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from oodcalib.segmentation.losses.registry import LossFn, check_number, register_loss


@register_loss("ls", "LS")
def label_smoothing(alpha: float = 0.1) -> LossFn:
    """Label smoothing: ``mean[(1 − α)(−log p_y) + α · mean_k(−log p_k)]``.

    This is ``F.cross_entropy(logits, target, label_smoothing=α)``.

    Example:
        >>> logits, target = torch.tensor([2.0, 0.0]).view(1, 2, 1, 1), torch.tensor([[[0]]])
        >>> round(float(label_smoothing()(logits, target)), 4)  # 0.9·0.1269 + 0.1·1.1269
        0.2269
    """
    alpha = check_number("ls", "alpha", alpha, high=1)

    def loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        log_p = logits.log_softmax(dim=1)
        true = -log_p.gather(1, target.unsqueeze(1)).squeeze(1)
        return ((1 - alpha) * true - alpha * log_p.mean(dim=1)).mean()

    return loss


@register_loss("focal", "FL")
def focal(gamma: float = 3.0) -> LossFn:
    """Focal loss: ``mean_{b,h,w} −(1 − p_y)^γ log p_y``.

    ``1 − p_y`` is clamped at the smallest normal float so that ``γ < 1`` keeps finite
    gradients at ``p_y = 1``.

    Example:
        >>> logits, target = torch.zeros(1, 2, 1, 1), torch.tensor([[[0]]])
        >>> round(float(focal()(logits, target)), 4)  # 0.5³ · ln 2
        0.0866
    """
    gamma = check_number("focal", "gamma", gamma)

    def loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        log_py = logits.log_softmax(dim=1).gather(1, target.unsqueeze(1)).squeeze(1)
        tiny = torch.finfo(logits.dtype).tiny
        return (-(1 - log_py.exp()).clamp(min=tiny).pow(gamma) * log_py).mean()

    return loss


@register_loss("ecp", "ECP")
def entropy_penalty(beta: float = 0.1) -> LossFn:
    """Confidence penalty: ``CE − β · mean_{b,k,h,w}(−p log p)``, ``p`` in ``[1e-10, 1 − 1e-10]``.

    The mean runs over the classes too, so the penalty is the entropy divided by ``K``.

    Example:
        >>> logits, target = torch.zeros(1, 2, 1, 1), torch.tensor([[[0]]])
        >>> round(float(entropy_penalty()(logits, target)), 4)  # ln 2 − 0.1 · ln 2 / 2
        0.6585
    """
    beta = check_number("ecp", "beta", beta)

    def loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        probs = logits.log_softmax(dim=1).exp().clamp(1e-10, 1.0 - 1e-10)
        entropy = -(probs * probs.log()).mean()
        return F.cross_entropy(logits, target) - beta * entropy

    return loss
