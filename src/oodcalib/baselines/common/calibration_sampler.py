"""Training batches for the learned calibrators (LTS, shape prior, Proposed), from a pool.

A :class:`CalibrationSampler` draws batches from a
:class:`~oodcalib.baselines.common.calibration_pool.CalibrationPool` (augmented calibration
slices with their logits and susceptibility maps, computed once through the frozen net):
a seeded choice of entries, then optional random crops centred near the heart, which
make CPU training cheap. The nets are fully convolutional and are applied to whole
slices at test time.
"""

from __future__ import annotations

import torch

from oodcalib.baselines.common.calibration_pool import CalibrationBatch, CalibrationPool
from oodcalib.errors import OodcalibError

__all__ = ["CalibrationBatch", "CalibrationSampler", "step_schedule"]


class CalibrationSampler:
    """Draw batches (optionally cropped) of augmented calibration slices from a pool.

    Args:
        pool: The augmented calibration slices.
        batch_size: Slices per batch.
        generator: Seeded source of the entry choice and the crops.
        crop: Side of random training crops (``None``: whole slices).
    """

    def __init__(
        self,
        pool: CalibrationPool,
        batch_size: int,
        generator: torch.Generator,
        crop: int | None = None,
    ):
        self.pool, self.batch_size, self.generator, self.crop = pool, batch_size, generator, crop
        if crop is not None and crop > min(pool.image.shape[-2:]):
            h, w = pool.image.shape[-2:]
            raise OodcalibError(
                f"calibration crop {crop} px is larger than the slices "
                f"({h}x{w} px); lower calib.crop"
            )

    def sample(self) -> CalibrationBatch:
        """Draw one batch."""
        index = torch.randint(
            len(self.pool), (self.batch_size,), generator=self.generator, device="cpu"
        )
        batch = self.pool.take(index)
        return self._crop(batch) if self.crop else batch

    def _crop(self, batch: CalibrationBatch) -> CalibrationBatch:
        """Crop each slice around a random foreground pixel (a random pixel if none)."""
        size, (h, w) = self.crop, batch.label.shape[-2:]
        assert size is not None  # called only with a crop
        fields = ["image", "logits", "label", "mean", "spread"]
        out: dict[str, list] = {f: [] for f in fields}
        for i in range(batch.label.shape[0]):
            foreground = torch.nonzero(batch.label[i] > 0)
            if len(foreground):
                pick = int(
                    torch.randint(len(foreground), (1,), generator=self.generator, device="cpu")
                )
                cy, cx = foreground[pick].tolist()
            else:
                cy, cx = (
                    int(torch.randint(n, (1,), generator=self.generator, device="cpu"))
                    for n in (h, w)
                )
            top = min(max(cy - size // 2, 0), h - size)
            left = min(max(cx - size // 2, 0), w - size)
            for f in fields:
                value = getattr(batch, f)
                if value is not None:
                    out[f].append(value[i, ..., top : top + size, left : left + size])
        return CalibrationBatch(
            torch.stack(out["image"]),
            torch.stack(out["logits"]),
            torch.stack(out["label"]),
            torch.stack(out["mean"]) if out["mean"] else None,
            torch.stack(out["spread"]) if out["spread"] else None,
        )


def step_schedule(
    optimiser: torch.optim.Optimizer, iterations: int
) -> torch.optim.lr_scheduler.StepLR:
    """Divide the learning rate by 10 after three quarters of the iterations."""
    return torch.optim.lr_scheduler.StepLR(optimiser, max(1, int(0.75 * iterations)), 0.1)
