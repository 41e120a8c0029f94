"""Marginal L1 average calibration error losses (``hl1ace``, ``sl1ace``).

Both are ``w_ace · ACE + w_dice · Dice + w_ce · CE`` as in the authors' code
(cai4cai/Average-Calibration-Losses):

- ``ACE = mean_{b,c}(ACE_bc · [class c present in y_b])`` over every image ``b`` and class
  ``c`` (background included); an absent class adds 0 but still counts in the mean.
- ``ACE_bc = mean over the non-empty bins m of |e_m − o_m|``, with ``e_m`` the (weighted)
  mean of ``p_c`` and ``o_m`` the (weighted) mean of ``y_c`` in bin ``m``.
- Dice is MONAI's ``DiceLoss(softmax=True, include_background=True, squared_pred=True,
  smooth_nr=0, smooth_dr=1e-5)``: ``mean_{b,c} 1 − 2Σpy / (Σp² + Σy² + 1e-5)``.
- CE is the mean cross-entropy.

Empty bins are masked out rather than set to NaN (the authors' ``nanmean``), which gives
the same value and gradients without NaN anywhere.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from oodcalib.segmentation.losses.registry import (
    LossFn,
    check_number,
    one_hot,
    register_loss,
)

#: The authors' top bin edge is ``1 + eps`` (float32), so that ``p = 1`` is binned.
EDGE_EPS = float(torch.finfo(torch.float32).eps)


def _bin_sums(values: torch.Tensor, bins: torch.Tensor, num_bins: int) -> torch.Tensor:
    """Per-bin sums ``(B, C, M, V)`` of ``values (B, C, P, V)`` at bin indices ``(B, C, P)``."""
    rows, width = values.shape[0] * values.shape[1], values.shape[-1]
    offsets = torch.arange(rows, device=bins.device).view(values.shape[:2] + (1,)) * num_bins
    out = values.new_zeros(rows * num_bins, width)
    out = out.index_add(0, (bins + offsets).reshape(-1), values.reshape(-1, width))
    return out.view(values.shape[:2] + (num_bins, width))


def _mean_gap(sums: torch.Tensor, filled: torch.Tensor) -> torch.Tensor:
    """Mean over the filled bins of ``|Σp/mass − Σy/mass|`` per (b, c); 0 if none is filled.

    ``sums`` holds (mass, Σp, Σy) per bin, ``(B, C, M, 3)``.
    """
    mass, sum_p, sum_y = sums.unbind(-1)
    safe = torch.where(filled, mass, torch.ones_like(mass))
    gap = torch.where(filled, (sum_p / safe - sum_y / safe).abs(), torch.zeros_like(mass))
    return gap.sum(-1) / filled.sum(-1).clamp(min=1)


def _statistics(probs: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
    """``(1, p, y)`` per element, ``(B, C, P, 3)``, for the bin sums (mass, Σp, Σy)."""
    probs = probs.flatten(2)
    return torch.stack([torch.ones_like(probs), probs, onehot.flatten(2).to(probs.dtype)], -1)


def hard_ace(probs: torch.Tensor, onehot: torch.Tensor, num_bins: int = 20) -> torch.Tensor:
    """Hard-binned ACE per image and class, ``(B, C)``, before masking absent classes.

    Bins are right-closed, ``(lo, hi]``, with edges ``linspace(0, 1 + eps, M + 1)``;
    ``e_m`` and ``o_m`` are plain means in the bin, gradients flow through ``e_m`` only.

    Example:
        >>> p = torch.tensor([[[0.21, 0.23, 0.9]]])  # bins (0.2, 0.25] and (0.85, 0.9]
        >>> y = torch.tensor([[[0.0, 1.0, 1.0]]])
        >>> round(float(hard_ace(p, y)), 4)  # (|0.22 − 0.5| + |0.9 − 1|) / 2
        0.19
    """
    edges = torch.linspace(
        0.0, 1.0 + EDGE_EPS, num_bins + 1, dtype=probs.dtype, device=probs.device
    )
    bins = torch.bucketize(probs.detach().flatten(2), edges[1:], right=False)
    sums = _bin_sums(_statistics(probs, onehot), bins.clamp_(max=num_bins - 1), num_bins)
    return _mean_gap(sums, sums[..., 0] > 0)


def soft_ace(
    probs: torch.Tensor, onehot: torch.Tensor, num_bins: int = 20, empty_weight: float = 0.01
) -> torch.Tensor:
    """Soft-binned ACE per image and class, ``(B, C)``, before masking absent classes.

    A value ``p`` between neighbouring bin centres ``β_m < p ≤ β_{m+1}`` (``β_m`` the
    midpoints of the hard bins) gives weight ``ψ_{m+1} = (p − β_m)/(β_{m+1} − β_m)`` to bin
    ``m + 1`` and ``1 − ψ_{m+1}`` to bin ``m``; below ``β_1`` or above ``β_M`` all of it goes
    to the end bin. ``e_m = Σψp / Σψ``, ``o_m = Σψy / Σψ`` (gradients through ``ψ`` too); a
    bin with ``Σψ < empty_weight`` is empty.

    Example:
        >>> p = torch.tensor([[[0.25, 0.5]]])  # centres 0.25, 0.75: 0.25 all to bin 1,
        >>> y = torch.tensor([[[0.0, 1.0]]])  # 0.5 half to each: gaps |1/3 − 1/3|, |0.5 − 1|
        >>> round(float(soft_ace(p, y, num_bins=2)), 4)
        0.25
    """
    centres = torch.linspace(
        0.0, 1.0 + EDGE_EPS, 2 * num_bins + 1, dtype=probs.dtype, device=probs.device
    )[1::2].contiguous()
    flat = probs.flatten(2)
    above = torch.bucketize(flat.detach(), centres, right=False)  # centres[above-1] < p
    low = (above - 1).clamp(0, num_bins - 2)
    weight_high = ((flat - centres[low]) / (centres[low + 1] - centres[low])).clamp(0.0, 1.0)
    stats = _statistics(probs, onehot)
    weighted = torch.cat(
        [(1 - weight_high).unsqueeze(-1) * stats, weight_high.unsqueeze(-1) * stats], dim=2
    )
    sums = _bin_sums(weighted, torch.cat([low, low + 1], dim=2), num_bins)
    return _mean_gap(sums, sums[..., 0] >= empty_weight)


def squared_dice_loss(
    probs: torch.Tensor, onehot: torch.Tensor, smooth_dr: float = 1e-5
) -> torch.Tensor:
    """MONAI's squared-denominator Dice, ``mean_{b,c} 1 − 2Σpy / (Σp² + Σy² + smooth_dr)``.

    Example:
        >>> y = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]]]).unsqueeze(0)  # (1, 2, 1, 2)
        >>> round(float(squared_dice_loss(y, y)), 4)
        0.0
    """
    dims = tuple(range(2, probs.dim()))
    overlap = (probs * onehot).sum(dims)
    denominator = (probs * probs).sum(dims) + (onehot * onehot).sum(dims) + smooth_dr
    return (1 - 2 * overlap / denominator).mean()


def _objective(ace_per_class, ace_weight: float, dice_weight: float, ce_weight: float) -> LossFn:
    def loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        probs = logits.log_softmax(dim=1).exp()  # as softmax; no slow threaded path on CPU
        onehot = one_hot(target, logits.shape[1], logits.dtype)
        present = onehot.flatten(2).sum(-1) > 0
        ace = (ace_per_class(probs, onehot) * present).mean()
        return (
            ace_weight * ace
            + dice_weight * squared_dice_loss(probs, onehot)
            + ce_weight * F.cross_entropy(logits, target)
        )

    return loss


@register_loss("hl1ace", "hL1-ACE")
def hl1ace(
    num_bins: int = 20, ace_weight: float = 0.33, dice_weight: float = 0.33, ce_weight: float = 0.33
) -> LossFn:
    """Hard-binned L1 ACE + Dice + CE: ``w_ace·ACE_hard + w_dice·Dice + w_ce·CE``.

    Example:
        >>> logits, target = torch.zeros(1, 2, 1, 2), torch.tensor([[[0, 1]]])
        >>> round(float(hl1ace()(logits, target)), 4)  # 0.33 (0 + (1 − 1/1.5) + ln 2)
        0.3387
    """
    bins = check_number("hl1ace", "num_bins", num_bins, low=1, integer=True)
    for name, weight in (("ace", ace_weight), ("dice", dice_weight), ("ce", ce_weight)):
        check_number("hl1ace", f"{name}_weight", weight)
    return _objective(lambda p, y: hard_ace(p, y, bins), ace_weight, dice_weight, ce_weight)


@register_loss("sl1ace", "sL1-ACE")
def sl1ace(
    num_bins: int = 20,
    ace_weight: float = 0.33,
    dice_weight: float = 0.33,
    ce_weight: float = 0.33,
    empty_weight: float = 0.01,
) -> LossFn:
    """Soft-binned L1 ACE + Dice + CE: ``w_ace·ACE_soft + w_dice·Dice + w_ce·CE``.

    ``empty_weight`` is the authors' empty-bin threshold on the bin mass ``Σψ`` (0.01).

    Example:
        >>> logits, target = torch.zeros(1, 2, 1, 2), torch.tensor([[[0, 1]]])
        >>> round(float(sl1ace()(logits, target)), 4)  # calibrated: ACE 0, as for hl1ace
        0.3387
    """
    bins = check_number("sl1ace", "num_bins", num_bins, low=2, integer=True)
    threshold = check_number("sl1ace", "empty_weight", empty_weight)
    for name, weight in (("ace", ace_weight), ("dice", dice_weight), ("ce", ce_weight)):
        check_number("sl1ace", f"{name}_weight", weight)
    return _objective(
        lambda p, y: soft_ace(p, y, bins, threshold), ace_weight, dice_weight, ce_weight
    )
