"""Augmented calibration slices, drawn once through the frozen net and shared by every fit.

The learned calibrators (LTS, the shape prior, Proposed) train on augmented calibration
slices: the segmentation net's training augmentation (geometric, then photometric), the
frozen net's logits of the augmented slice and, for Proposed, the mean and spread of the
softmax over ``copies`` further photometric copies. Drawing these afresh for every
training batch costs ``batch_size x (1 + copies)`` forward passes per iteration and per
repeat. A :class:`CalibrationPool` draws ``draws`` augmented versions of every slice
once; the methods and their repeats then sample batches (and crops) from it.

Draw ``j`` of every slice is seeded by ``derive_seed(seed, "pool", j)`` and its copies by
``derive_seed(seed, "pool-copies", j)``, so a pool of ``n`` draws is the first ``n`` draws
of a larger one, and the slices, labels and logits do not depend on ``copies`` (LTS and
Proposed share them). A pool lives on the CPU (drawn and augmented there from the seeded
generators; only the forward passes run on the model's device); the calibrators move
each sampled batch to their net's device (:meth:`CalibrationBatch.to`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from oodcalib.seeding import derive_seed
from oodcalib.segmentation.augmentation import (
    TTA_AUGMENTATION,
    AugmentationConfig,
    augment_batch,
    photometric,
)
from oodcalib.segmentation.batching import forward_in_batches
from oodcalib.segmentation.device import model_device, to_device


@dataclass
class CalibrationBatch:
    """Augmented calibration slices (a pool, or a batch sampled from one).

    ``image (B,1,h,w)``, ``logits (B,C,h,w)``, ``label (B,h,w)`` and the optional
    susceptibility maps ``mean``/``spread`` ``(B,C,h,w)``.
    """

    image: torch.Tensor
    logits: torch.Tensor
    label: torch.Tensor
    mean: torch.Tensor | None = None
    spread: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.label.shape[0])

    def to(self, device: torch.device) -> CalibrationBatch:
        """The batch on ``device`` (itself on the CPU)."""
        if device.type == "cpu":
            return self
        mean, spread = self.mean, self.spread
        return CalibrationBatch(
            to_device(self.image, device),
            to_device(self.logits, device),
            to_device(self.label, device),
            None if mean is None else to_device(mean, device),
            None if spread is None else to_device(spread, device),
        )

    def take(self, index: torch.Tensor) -> CalibrationBatch:
        """The entries at ``index``."""
        return CalibrationBatch(
            self.image[index],
            self.logits[index],
            self.label[index],
            None if self.mean is None else self.mean[index],
            None if self.spread is None else self.spread[index],
        )


@dataclass
class CalibrationPool(CalibrationBatch):
    """All draws of the calibration slices: entry ``j * slices + s`` is draw ``j`` of slice ``s``.

    Attributes:
        slices: Calibration slices per draw.
    """

    slices: int = 0


@torch.no_grad()
def draw_slices(
    scans: Sequence,
    model: torch.nn.Module,
    draws: int,
    seed: int,
    augment: bool = True,
    augmentation: AugmentationConfig | None = None,
    batch_size: int | None = None,
) -> CalibrationPool:
    """``draws`` augmented versions of every calibration slice, with their logits.

    Args:
        scans: Labelled calibration scans (``image``, ``label``, ``logits``; one slice size).
        model: The frozen segmentation net.
        draws: Versions per slice (entries are ordered draw-major: ``j * slices + s``).
        seed: Seed of the pool.
        augment: Apply the training augmentation; off, every draw is the plain slices
            with their stored logits.
        augmentation: Ranges of the training augmentation.
        batch_size: Slices per forward call (default: by slice size).

    Example:
        >>> from oodcalib.baselines.base import ScanLogits
        >>> from oodcalib.segmentation.unet import UNet
        >>> net = UNet(width=2, depth=2).eval()
        >>> scan = ScanLogits("a", np.zeros((3, 8, 8), np.float32),
        ...                   np.zeros((3, 4, 8, 8), np.float32), np.zeros((3, 8, 8), np.uint8))
        >>> pool = draw_slices([scan], net, draws=2, seed=0)
        >>> len(pool), tuple(pool.logits.shape)
        (6, (6, 4, 8, 8))
    """
    model.eval()
    cpu = torch.device("cpu")
    images = torch.as_tensor(
        np.concatenate([s.image for s in scans]), dtype=torch.float32, device=cpu
    ).unsqueeze(1)
    labels = torch.as_tensor(np.concatenate([s.label for s in scans]).astype(np.int64), device=cpu)
    stored = torch.as_tensor(
        np.concatenate([s.logits for s in scans]), dtype=torch.float32, device=cpu
    )
    if not augment:
        return CalibrationPool(
            images.repeat(draws, 1, 1, 1),
            stored.repeat(draws, 1, 1, 1),
            labels.repeat(draws, 1, 1),
            slices=len(images),
        )
    parts = [
        augment_batch(
            images,
            labels,
            torch.Generator(device=cpu).manual_seed(derive_seed(seed, "pool", j)),
            augmentation,
        )
        for j in range(draws)
    ]
    image = torch.cat([p[0] for p in parts])
    return CalibrationPool(
        image,
        forward_in_batches(model, to_device(image, model_device(model)), batch_size).cpu(),
        torch.cat([p[1] for p in parts]),
        slices=len(images),
    )


@torch.no_grad()
def add_susceptibility(
    pool: CalibrationPool,
    model: torch.nn.Module,
    copies: int,
    seed: int,
    batch_size: int | None = None,
) -> CalibrationPool:
    """The pool with the mean and spread of the softmax over ``copies`` photometric copies.

    The spread is the population standard deviation (``ddof = 0``), as at test time.
    """
    model.eval()
    slices = pool.slices
    means, spreads = [], []
    for j, first in enumerate(range(0, len(pool), slices)):
        image = pool.image[first : first + slices]
        generator = torch.Generator(device="cpu").manual_seed(derive_seed(seed, "pool-copies", j))
        stack = photometric(image.repeat(copies, 1, 1, 1), generator, TTA_AUGMENTATION)
        stack = to_device(stack, model_device(model))
        probs = torch.softmax(forward_in_batches(model, stack, batch_size), 1)
        probs = probs.view(copies, *image.shape[:1], *probs.shape[1:])
        means.append(probs.mean(0).cpu())
        spreads.append(probs.std(0, unbiased=False).cpu())
    return replace(pool, mean=torch.cat(means), spread=torch.cat(spreads))
