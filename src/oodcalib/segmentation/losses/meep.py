"""Maximum entropy on erroneous predictions (``meep_kl``, ``meep_h``; Larrazabal et al.).

Both add to the cross-entropy a term on the misclassified pixels only, the mask
``argmax_k p_k ≠ y`` (not differentiated), that pushes their prediction towards uniform.
With no misclassified pixel the term is 0 (the authors' code divides by zero there).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from oodcalib.segmentation.losses.registry import LossFn, check_number, register_loss

#: The authors clip ``p`` to ``[1e-7, 1]`` before the log of the KL term.
CLIP = 1e-7


def _mean_over_errors(
    per_pixel: torch.Tensor, logits: torch.Tensor, target: torch.Tensor
) -> torch.Tensor:
    """Mean of ``per_pixel (N, H, W)`` over the misclassified pixels; 0 if there are none."""
    wrong = (logits.detach().argmax(dim=1) != target).to(per_pixel.dtype)
    return (per_pixel * wrong).sum() / wrong.sum().clamp(min=1)


@register_loss("meep_kl", "MEEP-KL")
def meep_kl(lam: float = 0.3) -> LossFn:
    """MEEP with the KL-to-uniform term: ``CE + λ · mean_{errors} mean_k(−log clip(p_k))``.

    ``clip`` is to ``[1e-7, 1]``. ``mean_k(−log p_k)`` is ``KL(u ‖ p) − log K``: the paper
    writes ``L_seg − λ·KL`` but its code adds this term, which is what lowers confidence on
    errors, so it is added here.

    Example:
        >>> logits = torch.tensor([1.0, 0.0]).view(1, 2, 1, 1)  # argmax 0, label 1: an error
        >>> loss, ce = meep_kl()(logits, torch.tensor([[[1]]])), math.log(1 + math.e)
        >>> round(float(loss) - ce, 4)  # 0.3 · (ln(1 + e) − 1 + ln(1 + e)) / 2
        0.244
    """
    lam = check_number("meep_kl", "lam", lam)

    def loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        log_p = logits.log_softmax(dim=1).clamp(min=math.log(CLIP))
        penalty = _mean_over_errors(-log_p.mean(dim=1), logits, target)
        return F.cross_entropy(logits, target) + lam * penalty

    return loss


@register_loss("meep_h", "MEEP-H")
def meep_h(lam: float = 0.3) -> LossFn:
    """MEEP with the entropy term: ``CE − λ · mean_{errors}(−Σ_k p_k log p_k)``.

    The paper's Shannon entropy; for K > 2 the authors' code averages per-class binary
    entropies instead, which is the same for K = 2.

    Example:
        >>> logits = torch.zeros(1, 2, 1, 1)  # argmax 0 (first of ties), label 1: an error
        >>> round(float(meep_h()(logits, torch.tensor([[[1]]]))), 4)  # 0.7 · ln 2
        0.4852
    """
    lam = check_number("meep_h", "lam", lam)

    def loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        log_p = logits.log_softmax(dim=1)
        entropy = -(log_p.exp() * log_p).sum(dim=1)
        return F.cross_entropy(logits, target) - lam * _mean_over_errors(entropy, logits, target)

    return loss
