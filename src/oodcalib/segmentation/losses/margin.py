"""Margin-based label smoothing (``mbls``; Liu et al., CVPR 2022, Bala93/MarginLoss).

The penalty acts on logit distances ``d_k = max_j l_j − l_k``: every class whose logit
trails the largest one by more than the margin ``m`` is pulled back, which bounds the
confidence a pixel can reach without penalty. Label smoothing and the entropy penalty
(:mod:`.smoothing`) push every ``d_k`` towards 0 (an equality constraint); MbLS only asks
``d_k ≤ m`` (an inequality), so logits already within the margin are left alone.

Gradients: the largest logit receives ``+α/(K·N·H·W)`` for each class that violates the
margin, that class ``−α/(K·N·H·W)``; ties at the maximum send it to one of them
(``torch.max``), as in the authors' code.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from oodcalib.segmentation.losses.registry import LossFn, check_number, register_loss


def logit_margin_penalty(logits: torch.Tensor, margin: float) -> torch.Tensor:
    """``mean_{b,k,h,w} relu(max_j l_j − l_k − margin)``.

    Example:
        >>> logits = torch.tensor([10.0, 2.0, 9.0]).view(1, 3, 1, 1)
        >>> float(logit_margin_penalty(logits, 5.0))  # only 10 − 2 − 5 = 3 counts, over 3
        1.0
    """
    largest = logits.max(dim=1, keepdim=True).values
    return F.relu(largest - logits - margin).mean()


@register_loss("mbls", "MbLS")
def mbls(margin: float = 5.0, alpha: float = 0.1) -> LossFn:
    """Margin-based label smoothing: ``CE + α · mean_{b,k,h,w} relu(max_j l_j − l_k − m)``.

    Defaults are the paper's ``m = 5`` (its segmentation config file says 10) and ``α = 0.1``.

    Example:
        >>> logits = torch.tensor([10.0, 2.0, 9.0]).view(1, 3, 1, 1)
        >>> ce = F.cross_entropy(logits, torch.tensor([[[0]]]))
        >>> round(float(mbls()(logits, torch.tensor([[[0]]])) - ce), 4)  # 0.1 · 3 / 3
        0.1
    """
    margin = check_number("mbls", "margin", margin)
    alpha = check_number("mbls", "alpha", alpha)

    def loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, target) + alpha * logit_margin_penalty(logits, margin)

    return loss
