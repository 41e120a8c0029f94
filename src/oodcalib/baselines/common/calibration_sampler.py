"""Augmented training batches for the learned calibrators (LTS, shape prior, Proposed).

Every draw applies the segmentation net's training augmentation (geometric, then
photometric) to calibration slices, sends them through the frozen segmentation net for
fresh logits and, on request, through ``copies`` further photometric augmentations for the
susceptibility maps. Optional random crops centred near the heart make CPU training cheap;
the nets are fully convolutional and are applied to whole slices at test time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from oodcalib.baselines.base import ScanLogits
from oodcalib.baselines.common.augmented_passes import TTA_AUGMENTATION
from oodcalib.benchmark.segmentation.augmentation import (
    AugmentationConfig,
    augment_batch,
    photometric,
)
from oodcalib.errors import OodcalibError


@dataclass
class CalibrationBatch:
    """One batch of augmented calibration slices.

    ``image (B,1,h,w)``, ``logits (B,C,h,w)``, ``label (B,h,w)`` and the optional
    susceptibility maps ``mean``/``spread`` ``(B,C,h,w)``.
    """

    image: torch.Tensor
    logits: torch.Tensor
    label: torch.Tensor
    mean: torch.Tensor | None = None
    spread: torch.Tensor | None = None


class CalibrationSampler:
    """Draw augmented batches of calibration slices through the frozen segmentation net.

    Args:
        scans: Labelled calibration scans (all slices share one in-plane size).
        model: The frozen segmentation network.
        batch_size: Slices per batch.
        generator: Seeded source of all randomness (slice choice, augmentation, crops).
        crop: Side of random training crops (``None``: whole slices).
        copies: Photometric copies per slice for the susceptibility maps (0: none).
        augment: Apply the training augmentation (off: plain slices and stored logits).
        augmentation: Ranges of the training augmentation.
    """

    def __init__(self, scans: Sequence[ScanLogits], model: torch.nn.Module, batch_size: int,
                 generator: torch.Generator, crop: int | None = None, copies: int = 0,
                 augment: bool = True, augmentation: AugmentationConfig | None = None):
        self.images = torch.as_tensor(np.concatenate([s.image for s in scans]),
                                      dtype=torch.float32).unsqueeze(1)
        self.labels = torch.as_tensor(np.concatenate([s.label for s in scans]).astype(np.int64))
        self.logits = torch.as_tensor(np.concatenate([s.logits for s in scans]),
                                      dtype=torch.float32)
        self.model, self.batch_size, self.generator = model, batch_size, generator
        self.crop, self.copies, self.augment = crop, copies, augment
        self.augmentation = augmentation or AugmentationConfig()
        if crop is not None and crop > min(self.images.shape[-2:]):
            h, w = self.images.shape[-2:]
            raise OodcalibError(f"calibration crop {crop} px is larger than the slices "
                                f"({h}x{w} px); lower calib.crop")

    @torch.no_grad()
    def sample(self) -> CalibrationBatch:
        """Draw one augmented batch."""
        self.model.eval()
        index = torch.randint(len(self.images), (self.batch_size,), generator=self.generator)
        image, label = self.images[index], self.labels[index]
        if self.augment:
            image, label = augment_batch(image, label, self.generator, self.augmentation)
            logits = self.model(image)
        else:
            logits = self.logits[index]
        batch = CalibrationBatch(image, logits, label)
        if self.copies:
            repeated = image.repeat(self.copies, 1, 1, 1)
            copies = photometric(repeated, self.generator, TTA_AUGMENTATION)
            probs = torch.softmax(self.model(copies), dim=1)
            probs = probs.view(self.copies, *logits.shape)
            batch.mean, batch.spread = probs.mean(0), probs.std(0, unbiased=False)
        return self._crop(batch) if self.crop else batch

    def _crop(self, batch: CalibrationBatch) -> CalibrationBatch:
        """Crop each slice around a random foreground pixel (a random pixel if none)."""
        size, (h, w) = self.crop, batch.label.shape[-2:]
        fields = ["image", "logits", "label", "mean", "spread"]
        out: dict[str, list] = {f: [] for f in fields}
        for i in range(batch.label.shape[0]):
            foreground = torch.nonzero(batch.label[i] > 0)
            if len(foreground):
                pick = int(torch.randint(len(foreground), (1,), generator=self.generator))
                cy, cx = foreground[pick].tolist()
            else:
                cy, cx = (int(torch.randint(n, (1,), generator=self.generator)) for n in (h, w))
            top = min(max(cy - size // 2, 0), h - size)
            left = min(max(cx - size // 2, 0), w - size)
            for f in fields:
                value = getattr(batch, f)
                if value is not None:
                    out[f].append(value[i, ..., top : top + size, left : left + size])
        return CalibrationBatch(**{f: torch.stack(v) if v else None for f, v in out.items()})


def step_schedule(optimiser: torch.optim.Optimizer, iterations: int
                  ) -> torch.optim.lr_scheduler.StepLR:
    """Divide the learning rate by 10 after three quarters of the iterations."""
    return torch.optim.lr_scheduler.StepLR(optimiser, max(1, int(0.75 * iterations)), 0.1)
