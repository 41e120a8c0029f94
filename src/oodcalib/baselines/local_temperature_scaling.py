"""LTS: local temperature scaling (Ding et al., ICCV 2021)."""

from __future__ import annotations

import torch

from oodcalib.baselines.base import ScanLogits
from oodcalib.baselines.common.calibration_sampler import CalibrationBatch
from oodcalib.baselines.common.learned_temperature import LearnedTemperature
from oodcalib.baselines.common.networks import LTSNet


class LocalTemperatureScaling(LearnedTemperature):
    """Local temperature scaling: a per-pixel temperature map from a small CNN.

    The CNN (:class:`~oodcalib.baselines.common.networks.LTSNet`) reads the logits and the
    image and outputs a temperature map ``T(x) > 0`` shared by all classes; it is trained
    by NLL on augmented calibration slices. ``lr`` defaults to the reference's 1e-4.

    See :class:`~oodcalib.baselines.common.learned_temperature.LearnedTemperature` for the
    arguments and fitted attributes.
    """

    name = "lts"
    display_name = "LTS"

    def __init__(
        self,
        iterations: int = 2000,
        batch_size: int = 8,
        lr: float = 1e-4,
        crop: int | None = None,
        width: int = 16,
        augment: bool = True,
        pool_size: int = 16,
        random_state: int = 0,
    ):
        super().__init__(iterations, batch_size, lr, crop, width, augment, pool_size, random_state)

    def _build(self, num_classes: int) -> torch.nn.Module:
        return LTSNet(num_classes, self.width)

    def _batch_inputs(self, batch: CalibrationBatch) -> dict[str, torch.Tensor]:
        return {"logits": batch.logits, "image": batch.image}

    def _scan_inputs(
        self, scan: ScanLogits, model: torch.nn.Module, logits: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        image = torch.as_tensor(scan.image, dtype=torch.float32, device=logits.device)
        image = image.unsqueeze(1)
        return {"logits": logits, "image": image}
