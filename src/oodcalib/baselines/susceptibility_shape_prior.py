"""Proposed: the paper's susceptibility + shape-prior calibrator.

Three pieces, trained one after the other on the calibration patients:

1. **Susceptibility** (no training): mean and spread of the softmax over ``N_A``
   photometrically augmented passes through the frozen segmentation net
   (:mod:`~oodcalib.baselines.common.augmented_passes`); during training, over
   ``train_copies`` copies of each augmented calibration slice of the shared pool
   (:mod:`~oodcalib.baselines.common.calibration_pool`).
2. **Shape prior** ``s``: a denoising autoencoder, a small U-Net with dropout in its encoder,
   trained by cross-entropy from the logits ``z`` to the ground truth, then frozen. Its
   input to the calibration net is the residual ``softmax(s(z)) - softmax(z)``.
3. **Calibration net** ``g`` (:class:`~oodcalib.baselines.common.networks.CalibrationNet`):
   branches for image, logits, mean, spread and residual; a positive temperature per
   pixel, shared by all classes; trained by NLL of ``softmax(z / T)``.

``susceptibility=False`` or ``shape_prior=False`` drop the corresponding branches (the
component ablation, paper Table 2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from oodcalib.baselines.base import ScanLogits
from oodcalib.baselines.common.augmented_passes import AugmentedPasses, susceptibility
from oodcalib.baselines.common.calibration_sampler import CalibrationBatch
from oodcalib.baselines.common.learned_temperature import LearnedTemperature, train_network
from oodcalib.baselines.common.networks import CalibrationNet
from oodcalib.config.ranges import Count, Dropout, Width
from oodcalib.segmentation.batching import forward_in_batches
from oodcalib.segmentation.device import model_device, to_device
from oodcalib.segmentation.unet import UNet


class SusceptibilityShapePrior(LearnedTemperature):
    """The paper's calibrator; see the module docstring.

    Args:
        num_aug: Augmented passes ``N_A`` at test time (180 in the paper).
        train_copies: Photometric copies per augmented calibration slice for the training
            susceptibility maps (6).
        susceptibility: Use the mean and spread maps.
        shape_prior: Use the shape-prior residual.
        shape_width: Base width of the shape-prior U-Net (8).
        shape_dropout: Encoder dropout of the shape prior (0.5).
        iterations, batch_size, lr, crop, width, augment, pool_size, random_state: As in
            :class:`~oodcalib.baselines.common.learned_temperature.LearnedTemperature`; both
            ``s`` and ``g`` train for ``iterations`` steps.

    Attributes:
        shape_prior_: The frozen shape-prior U-Net (if ``shape_prior``).
        shape_loss_curve_: Its training cross-entropy per step.
        net_, loss_curve_, nll_before_, nll_after_: As in the base class.
    """

    name = "proposed"
    display_name = "Proposed"
    test_time_passes = True
    parameter_ranges: ClassVar[dict[str, Any]] = {
        **LearnedTemperature.parameter_ranges,
        "num_aug": Count,
        "train_copies": Count,
        "susceptibility": bool,
        "shape_prior": bool,
        "shape_width": Width,
        "shape_dropout": Dropout,
    }
    #: Poolings of the shape prior's U-Net (depth 3): its input side is a multiple of 4.
    SHAPE_FACTOR = 4

    def __init__(
        self,
        num_aug: int = 180,
        train_copies: int = 6,
        susceptibility: bool = True,
        shape_prior: bool = True,
        shape_width: int = 8,
        shape_dropout: float = 0.5,
        iterations: int = 2000,
        batch_size: int = 8,
        lr: float = 1e-3,
        crop: int | None = None,
        width: int = 16,
        augment: bool = True,
        pool_size: int = 16,
        random_state: int = 0,
    ):
        super().__init__(iterations, batch_size, lr, crop, width, augment, pool_size, random_state)
        self.num_aug, self.train_copies = num_aug, train_copies
        self.susceptibility, self.shape_prior = susceptibility, shape_prior
        self.shape_width, self.shape_dropout = shape_width, shape_dropout

    nets = ("net_", "shape_prior_")

    @classmethod
    def check_params(cls, params: Mapping[str, Any], input_side: int | None = None) -> list[str]:
        """As the base class, and a crop (else the slices) the shape prior can pool.

        Example:
            >>> SusceptibilityShapePrior.check_params({"crop": 30})
            ['calib.proposed.crop=30: the shape prior (a U-Net of depth 3) needs a multiple of 4']
        """
        problems = super().check_params(params, input_side)
        if problems or not params.get("shape_prior", True):
            return problems
        side, key = params.get("crop"), f"calib.{cls.name}.crop"
        if side is None:
            side, key = input_side, "data.input_size (or data.size)"
        if side is not None and side % cls.SHAPE_FACTOR:
            problems.append(
                f"{key}={side}: the shape prior (a U-Net of depth 3) needs a multiple of "
                f"{cls.SHAPE_FACTOR}"
            )
        return problems

    @property
    def copies_needed(self) -> int:  # type: ignore[override]
        """Copies the training batches need (none without the susceptibility branch)."""
        return self.train_copies if self.susceptibility else 0

    def _prepare(
        self, source: AugmentedPasses, scans: Sequence[ScanLogits], generator: torch.Generator
    ) -> None:
        self.__dict__.pop("features_memo_", None)  # features of an earlier fit's net
        if not self.shape_prior:
            return
        classes = scans[0].logits.shape[1]
        with torch.device("cpu"):  # the same initial weights on every device
            shape_prior = UNet(
                classes, classes, width=self.shape_width, depth=3, dropout=self.shape_dropout
            )
        self.shape_prior_ = shape_prior.to(model_device(source.model))
        sampler = self._sampler(source, scans, 0, generator)
        self.shape_loss_curve_ = train_network(
            self.shape_prior_,
            sampler,
            self.iterations,
            self.lr,
            lambda b: F.cross_entropy(self.shape_prior_(b.logits), b.label),
        )
        self.shape_prior_.eval().requires_grad_(False)

    def _branches(self, classes: int) -> dict[str, int]:
        branches = {"image": 1, "logits": classes}
        if self.susceptibility:
            branches |= {"mean": classes, "spread": classes}
        if self.shape_prior:
            branches["residual"] = classes
        return branches

    def _build(self, num_classes: int) -> torch.nn.Module:
        return CalibrationNet(self._branches(num_classes), self.width)

    def _temperature(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.net_(inputs)

    def _residual(self, logits: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return torch.softmax(self.shape_prior_(logits), 1) - torch.softmax(logits, 1)

    def _batch_inputs(self, batch: CalibrationBatch) -> dict[str, torch.Tensor]:
        inputs = {"image": batch.image, "logits": batch.logits}
        if self.susceptibility:
            # the pool was drawn with train_copies photometric copies: it has both maps
            assert batch.mean is not None and batch.spread is not None
            inputs |= {"mean": batch.mean, "spread": batch.spread}
        if self.shape_prior:
            inputs["residual"] = self._residual(batch.logits)
        return inputs

    def _scan_inputs(
        self, scan: ScanLogits, model: torch.nn.Module, logits: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        inputs = dict(self._scan_features(scan, logits))
        if self.susceptibility:
            mean, spread = susceptibility(scan, model, self.num_aug)
            inputs |= {
                "mean": to_device(torch.as_tensor(mean, device="cpu"), logits.device),
                "spread": to_device(torch.as_tensor(spread, device="cpu"), logits.device),
            }
        return inputs

    def _scan_features(self, scan: ScanLogits, logits: torch.Tensor) -> dict[str, torch.Tensor]:
        """Branch features of the image, logits and residual of a scan, kept for the last scan.

        They do not depend on ``num_aug``, so an ablation that predicts one scan with
        several ``N_A`` computes them, and the shape prior's residual, once.
        """
        memo = getattr(self, "features_memo_", None)
        if memo is not None and memo[0] is scan:
            return memo[1]
        inputs = {
            "image": torch.as_tensor(
                scan.image, dtype=torch.float32, device=logits.device
            ).unsqueeze(1),
            "logits": logits,
        }
        if self.shape_prior:
            inputs["residual"] = forward_in_batches(self._residual, logits)
        with torch.no_grad():
            batches = [
                self.net_.encode(
                    {
                        n: x[i : i + 8].contiguous(memory_format=torch.channels_last)
                        for n, x in inputs.items()
                    }
                )
                for i in range(0, logits.shape[0], 8)
            ]
        features = {k: torch.cat([b[k] for b in batches]) for k in batches[0]}
        self.features_memo_ = (scan, features)
        return features

    def __getstate__(self) -> dict:
        """Pickled state without the memo of the last scan."""
        return {k: v for k, v in self.__dict__.items() if k != "features_memo_"}
