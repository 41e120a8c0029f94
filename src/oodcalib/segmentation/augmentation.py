"""Training augmentation: photometric and geometric, batched in torch.

Photometric: brightness, contrast, gamma, additive noise. Geometric: affine, elastic.
None of these is one of the test corruptions. As in TorchIO, each augmentation first
samples its parameters from a :class:`torch.Generator` and then applies them
deterministically, so test-time augmentation (a later calibrator) can reuse
:func:`photometric` with its own seeded generator. Parameters and noise are drawn on the
generator's device (the CPU in the benchmark: the same draws whatever device the networks
use).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentationConfig:
    """Ranges of the training augmentation (images are in ``[0, 1]``)."""

    brightness: float = 0.1  #: additive shift ~ U(-b, b)
    contrast: tuple[float, float] = (0.75, 1.25)  #: factor about the mean
    gamma: tuple[float, float] = (0.7, 1.5)
    noise_std: tuple[float, float] = (0.0, 0.05)
    rotation_deg: float = 20.0
    scale: tuple[float, float] = (0.85, 1.15)
    translation: float = 0.08  #: fraction of the image side
    elastic_prob: float = 0.3
    elastic_alpha: float = 0.06  #: displacement magnitude (normalised coords)
    elastic_grid: int = 5  #: control points per side of the smooth displacement


#: Ranges of test-time augmentation (the photometric part of the training augmentation).
TTA_AUGMENTATION = AugmentationConfig()


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator, device=generator.device)


def photometric(
    images: torch.Tensor, generator: torch.Generator, cfg: AugmentationConfig | None = None
) -> torch.Tensor:
    """Apply random brightness, contrast, gamma and Gaussian noise per image.

    The ranges are those of images in ``[0, 1]`` (the ``robust`` normalisation). An image
    with values outside ``[0, 1]`` (``zscore`` or ``none`` input of a foreign network) is
    augmented in its own range instead: mapped affinely from its ``[min, max]`` onto
    ``[0, 1]``, augmented, and mapped back, so it is not clipped to ``[0, 1]``. Images in
    ``[0, 1]`` are augmented as they are, bit for bit.

    Args:
        images: ``(N, 1, H, W)`` tensor.
        generator: Source of randomness (seed it for replayable augmentation).
        cfg: Ranges; defaults to :class:`AugmentationConfig`.

    Returns:
        Augmented images, clipped to ``[0, 1]`` (or to each image's own range).

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> out = photometric(torch.full((2, 1, 8, 8), 0.5), g)
        >>> out.shape, bool(out.min() >= 0), bool(out.max() <= 1)
        (torch.Size([2, 1, 8, 8]), True, True)
        >>> z = torch.linspace(-2, 3, 64).view(1, 1, 8, 8)  # a z-scored slice
        >>> out = photometric(z, torch.Generator().manual_seed(0))
        >>> bool(out.min() >= -2) and bool(out.max() <= 3) and bool(out.min() < 0)
        True
    """
    cfg = cfg or AugmentationConfig()
    n = images.shape[0]
    shape = (n, 1, 1, 1)
    low = images.amin(dim=(1, 2, 3), keepdim=True)
    high = images.amax(dim=(1, 2, 3), keepdim=True)
    outside = (low < 0) | (high > 1)
    if outside.any():  # such images in their own range; those in [0, 1] exactly as they are
        low = torch.where(outside, low, torch.zeros_like(low))
        span = torch.where(outside, (high - low).clamp_min(1e-12), torch.ones_like(high))
        images = (images - low) / span
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    contrast = _uniform(n, *cfg.contrast, generator).view(shape)
    brightness = _uniform(n, -cfg.brightness, cfg.brightness, generator).view(shape)
    x = ((images - mean) * contrast + mean + brightness).clamp(0, 1)
    gamma = _uniform(n, *cfg.gamma, generator).view(shape)
    x = x.clamp_min(1e-6) ** gamma
    sigma = _uniform(n, *cfg.noise_std, generator).view(shape)
    noise = torch.randn(images.shape, generator=generator, device=generator.device)
    x = (x + sigma * noise).clamp(0, 1)
    return x * span + low if outside.any() else x


def geometric(
    images: torch.Tensor,
    labels: torch.Tensor,
    generator: torch.Generator,
    cfg: AugmentationConfig | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply one random affine (+ optional elastic) warp to each image/label pair.

    Images are resampled bilinearly, labels by nearest neighbour, with the same grid.

    Args:
        images: ``(N, 1, H, W)`` float tensor.
        labels: ``(N, H, W)`` integer tensor.
        generator: Source of randomness.
        cfg: Ranges; defaults to :class:`AugmentationConfig`.

    Returns:
        The warped ``(images, labels)``.
    """
    cfg = cfg or AugmentationConfig()
    n, _, h, w = images.shape
    angle = torch.deg2rad(_uniform(n, -cfg.rotation_deg, cfg.rotation_deg, generator))
    scale = _uniform(n, *cfg.scale, generator)
    shift = _uniform(2 * n, -cfg.translation, cfg.translation, generator).view(n, 2) * 2
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta, [n, 1, h, w], align_corners=False)
    if cfg.elastic_prob > 0:
        coarse = torch.randn(
            (n, 2, cfg.elastic_grid, cfg.elastic_grid), generator=generator, device=generator.device
        )
        field = F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=True)
        apply = torch.rand(n, generator=generator, device=generator.device) < cfg.elastic_prob
        apply = apply.view(n, 1, 1, 1)
        grid = grid + cfg.elastic_alpha * field.permute(0, 2, 3, 1) * apply
    warped = F.grid_sample(
        images, grid, mode="bilinear", padding_mode="border", align_corners=False
    )
    onehot = labels.unsqueeze(1).float()
    warped_labels = F.grid_sample(
        onehot, grid, mode="nearest", padding_mode="zeros", align_corners=False
    )
    return warped, warped_labels.squeeze(1).round().long()


def augment_batch(
    images: torch.Tensor,
    labels: torch.Tensor,
    generator: torch.Generator,
    cfg: AugmentationConfig | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Geometric then photometric augmentation of a training batch."""
    images, labels = geometric(images, labels, generator, cfg)
    return photometric(images, generator, cfg), labels
