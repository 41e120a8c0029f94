"""Neighbourhood-aware losses: NACL and spatially varying label smoothing (``nacl``, ``svls``).

Both use a spatial prior of the label map, built here:

- the SVLS kernel (:func:`svls_kernel`): a normalised Gaussian of ``σ`` whose centre weight is
  replaced by the sum of the other weights, renormalised, so the centre holds ½ of the mass;
  the one-hot map is convolved with it per class, with replicate padding (:func:`svls_labels`);
- the window share (:func:`window_share`): the share of each class among the
  ``k × k`` labels around a pixel, the zero padding at the border counting as background
  (label 0), as the authors' ``Unfold`` of the label map does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from oodcalib.errors import OodcalibError
from oodcalib.segmentation.losses.registry import (
    LossFn,
    check_choice,
    check_number,
    one_hot,
    register_loss,
)


def svls_kernel(
    sigma: float = 1.0,
    size: int = 3,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """The ``size × size`` SVLS kernel: Gaussian neighbours, centre ½, sum 1.

    Example:
        >>> k = svls_kernel(1.0)
        >>> float(k[1, 1]), round(float(k.sum()), 6), round(float(k[0, 1] / k[0, 0]), 4)
        (0.5, 1.0, 1.6487)
    """
    axis = torch.arange(size, dtype=torch.float64, device="cpu") - (size - 1) / 2
    squared = axis[:, None] ** 2 + axis[None, :] ** 2
    kernel = torch.exp(-squared / (2 * sigma**2))
    centre = size // 2
    kernel[centre, centre] = 0
    kernel[centre, centre] = kernel.sum()
    return (kernel / kernel.sum()).to(dtype=dtype, device=device)


def svls_labels(
    target: torch.Tensor,
    num_classes: int,
    sigma: float = 1.0,
    size: int = 3,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """SVLS-smoothed one-hot labels ``(N, K, H, W)`` (replicate padding); sums to 1 per pixel.

    Example:
        >>> svls_labels(torch.tensor([[[0, 1, 1]]]), 2)[0, :, 0, 0]  # right column is class 1
        tensor([0.8278, 0.1722])
    """
    onehot = one_hot(target, num_classes, dtype)
    kernel = svls_kernel(sigma, size, dtype, target.device)
    weight = kernel.expand(num_classes, 1, size, size)
    padded = F.pad(onehot, (size // 2,) * 4, mode="replicate")
    return F.conv2d(padded, weight, groups=num_classes)


def window_share(
    target: torch.Tensor, num_classes: int, size: int = 3, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """Share of each class in the ``size × size`` window, ``(N, K, H, W)``; padding is class 0.

    Example:
        >>> window_share(torch.tensor([[[1, 1]]]), 2)[0, :, 0, 0]  # 2 of 9 are class 1
        tensor([0.7778, 0.2222])
    """
    padded = F.pad(target.long(), (size // 2,) * 4, mode="constant", value=0)
    return F.avg_pool2d(one_hot(padded, num_classes, dtype), size, stride=1)


@register_loss("nacl", "NACL")
def nacl(
    alpha: float = 0.1,
    kernel_size: int = 3,
    prior: str = "mean",
    sigma: float = 1.0,
    distance: str = "l1",
) -> LossFn:
    """Neighbour-aware calibration loss: ``CE + α · mean_{b,k,h,w} d(τ, l)`` on the logits.

    ``d`` is ``|τ − l|`` (``distance="l1"``) or ``(τ − l)²`` (``"l2"``); the prior ``τ`` is the
    class share in the ``kernel_size`` window (``prior="mean"``) or the SVLS-smoothed labels
    with ``sigma`` (``prior="gaussian"``, the authors' code; MONAI's ``NACLLoss`` uses a plain
    Gaussian there instead). For a ``kernel_size`` other than 3 the SVLS kernel's centre is
    the true centre; the authors' ``get_svls_filter_2d`` reads entry ``[1, 1]`` whatever the
    size, which only agrees for 3x3.

    Example:
        >>> loss = nacl()
        >>> round(float(loss(torch.zeros(1, 2, 1, 1), torch.tensor([[[1]]]))), 4)  # ln 2 + 0.1/2
        0.7431
    """
    alpha = check_number("nacl", "alpha", alpha)
    size = check_number("nacl", "kernel_size", kernel_size, low=1, integer=True)
    if size % 2 == 0:
        raise OodcalibError(f"loss 'nacl': kernel_size must be odd, got {kernel_size!r}")
    check_choice("nacl", "prior", prior, ["mean", "gaussian"])
    check_choice("nacl", "distance", distance, ["l1", "l2"])
    sigma = check_number("nacl", "sigma", sigma, strict=True)

    def loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        classes, dtype = logits.shape[1], logits.dtype
        tau = (
            window_share(target, classes, size, dtype)
            if prior == "mean"
            else svls_labels(target, classes, sigma, size, dtype)
        )
        gap = tau - logits
        penalty = gap.abs() if distance == "l1" else gap * gap
        return F.cross_entropy(logits, target) + alpha * penalty.mean()

    return loss


@register_loss("svls", "SVLS")
def svls(sigma: float = 1.0) -> LossFn:
    """Spatially varying label smoothing: ``mean_{b,h,w} −Σ_k ỹ_k log p_k``.

    ``ỹ`` are the SVLS-smoothed one-hot labels (3x3 kernel, ``sigma``; the authors' code uses
    σ = 1, their paper's text says 2).

    Example:
        >>> loss = svls()
        >>> round(float(loss(torch.zeros(1, 2, 1, 1), torch.tensor([[[1]]]))), 4)  # ln 2
        0.6931
    """
    sigma = check_number("svls", "sigma", sigma, strict=True)

    def loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        smoothed = svls_labels(target, logits.shape[1], sigma, 3, logits.dtype)
        return -(smoothed * logits.log_softmax(dim=1)).sum(dim=1).mean()

    return loss
