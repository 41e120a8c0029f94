"""Shared machinery of calibrators that learn a per-pixel temperature map (LTS, Proposed).

A subclass builds its net in ``_build``, says which inputs the net reads from a training
batch (``_batch_inputs``) and from a whole test scan (``_scan_inputs``). This base class
runs the NLL training loop on batches of augmented calibration slices and applies the map:
``softmax(z / T(x))`` with one positive ``T`` per pixel shared by all classes, so the
argmax never changes.

The augmented slices come from the pool of the scans' pass source
(:meth:`~oodcalib.baselines.common.augmented_passes.AugmentedPasses.calibration_pool`),
drawn once: in the benchmark, every method and repeat of a fold trains on the same
``pool_size`` augmented versions of each calibration slice and samples its own batches
and crops from them. The nets run in ``channels_last`` memory format, 3x faster on CPU
for their few-channel dilated convolutions.

The nets are initialised on the CPU and train and predict on the segmentation net's
device (:func:`~oodcalib.segmentation.device.model_device`); a fitted calibrator keeps
them on the CPU (its saved fit loads anywhere) and moves them to the model's device when
it predicts. Probabilities leave as CPU numpy.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from oodcalib.baselines.base import Calibrator, ScanLogits, require_labels
from oodcalib.baselines.common.augmented_passes import AugmentedPasses
from oodcalib.baselines.common.calibration_sampler import (
    CalibrationBatch,
    CalibrationSampler,
    step_schedule,
)
from oodcalib.config.ranges import Count, LearningRate, Side, Width
from oodcalib.progress import progress
from oodcalib.segmentation.device import model_device, to_device

CPU = torch.device("cpu")


class LearnedTemperature(Calibrator):
    """Base class; see the module docstring.

    Args:
        iterations: Optimiser steps.
        batch_size: Calibration slices per step.
        lr: Adam learning rate (divided by 10 after 3/4 of the iterations).
        crop: Side of random training crops; ``None`` trains on whole slices.
        width: Channels of the net.
        augment: Train on augmented calibration slices (the training augmentation).
        pool_size: Augmented versions of each calibration slice, drawn once and sampled
            from (see the module docstring).
        random_state: Seed of initialisation, batches and crops (and of the pool when the
            scans carry no pass source).

    Attributes:
        net_: The trained temperature net.
        loss_curve_: Training NLL per step.
        nll_before_: Calibration NLL of the uncalibrated logits.
        nll_after_: Calibration NLL after calibration.
    """

    #: Channels the net needs from the susceptibility maps (0: none).
    copies_needed = 0
    #: The attributes holding fitted nets (moved between the CPU and the model's device).
    nets: tuple[str, ...] = ("net_",)
    parameter_ranges: ClassVar[dict[str, Any]] = {
        "iterations": Count,
        "batch_size": Count,
        "lr": LearningRate,
        "crop": Side | None,
        "width": Width,
        "augment": bool,
        "pool_size": Count,
    }

    def __init__(
        self,
        iterations: int = 2000,
        batch_size: int = 8,
        lr: float = 1e-3,
        crop: int | None = None,
        width: int = 16,
        augment: bool = True,
        pool_size: int = 16,
        random_state: int = 0,
    ):
        super().__init__(random_state)
        self.iterations, self.batch_size, self.lr = iterations, batch_size, lr
        self.crop, self.width, self.augment = crop, width, augment
        self.pool_size = pool_size

    @classmethod
    def check_params(cls, params: Mapping[str, Any], input_side: int | None = None) -> list[str]:
        """The ranges, and a training crop no larger than the slices (see the base class).

        Example:
            >>> from oodcalib.baselines import LocalTemperatureScaling
            >>> LocalTemperatureScaling.check_params({"crop": 128}, input_side=64)
            ['calib.lts.crop=128: larger than the 64 px input slices; lower it or leave it out']
        """
        problems = super().check_params(params, input_side)
        crop = params.get("crop")
        if not problems and crop is not None and input_side is not None and crop > input_side:
            problems.append(
                f"calib.{cls.name}.crop={crop}: larger than the {input_side} px input "
                "slices; lower it or leave it out"
            )
        return problems

    @abstractmethod
    def _build(self, num_classes: int) -> torch.nn.Module:
        """A fresh temperature net."""

    @abstractmethod
    def _batch_inputs(self, batch: CalibrationBatch) -> dict[str, torch.Tensor]:
        """The net's inputs for a training batch."""

    @abstractmethod
    def _scan_inputs(
        self, scan: ScanLogits, model: torch.nn.Module, logits: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """The net's inputs for a whole scan (``logits`` is ``(Z, C, H, W)``)."""

    def _temperature(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.net_(**inputs)

    def _net_temperature(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """``_temperature`` on ``channels_last`` inputs, returned contiguous."""
        inputs = {k: v.contiguous(memory_format=torch.channels_last) for k, v in inputs.items()}
        return self._temperature(inputs).contiguous()

    def _prepare(
        self, source: AugmentedPasses, scans: Sequence[ScanLogits], generator: torch.Generator
    ) -> None:
        """Hook run before the temperature net is trained (e.g. to fit a shape prior)."""

    def _sampler(
        self,
        source: AugmentedPasses,
        scans: Sequence[ScanLogits],
        copies: int,
        generator: torch.Generator,
    ) -> CalibrationSampler:
        """Batches from the shared pool of augmented calibration slices."""
        pool = source.calibration_pool(scans, self.pool_size, copies, self.augment)
        return CalibrationSampler(pool, self.batch_size, generator, self.crop)

    def fit(self, scans: Sequence[ScanLogits], model: torch.nn.Module) -> LearnedTemperature:
        """Train the temperature net by NLL on augmented calibration batches."""
        require_labels(scans)
        self._refuse_bad_params()
        source = scans[0].passes or AugmentedPasses(model, self.random_state)
        generator = torch.Generator(device=CPU).manual_seed(self.random_state)
        device = model_device(model)
        with torch.random.fork_rng():  # seeded initialisation, caller's RNG left untouched
            torch.manual_seed(self.random_state)
            self._prepare(source, scans, generator)
            with torch.device(CPU):  # the same initial weights on every device
                net = self._build(scans[0].logits.shape[1])
            # Module.to takes memory_format (documented), which torch's overloads leave out
            self.net_ = net.to(device, memory_format=torch.channels_last)  # type: ignore[call-overload]
            sampler = self._sampler(source, scans, self.copies_needed, generator)
            self.loss_curve_ = train_network(
                self.net_,
                sampler,
                self.iterations,
                self.lr,
                lambda b: F.cross_entropy(
                    b.logits / self._net_temperature(self._batch_inputs(b)), b.label
                ),
            )
        self.net_.eval()
        self.nll_before_, self.nll_after_ = self._calibration_nll(scans, model)
        self._place(CPU)
        return self

    def _place(self, device: torch.device) -> None:
        """Move the fitted nets to ``device`` (nothing moves when they are there)."""
        for name in self.nets:
            net = getattr(self, name, None)
            if net is not None:
                net.to(device)

    @torch.no_grad()
    def temperature_map(
        self, scan: ScanLogits, model: torch.nn.Module, batch_size: int = 8
    ) -> np.ndarray:
        """``(Z, 1, H, W)`` temperatures of one scan."""
        self._check_fitted("net_")
        device = model_device(model)
        self._place(device)
        logits = torch.as_tensor(scan.logits, dtype=torch.float32, device=CPU)
        inputs = self._scan_inputs(scan, model, to_device(logits, device))
        maps = [
            self._net_temperature({k: v[i : i + batch_size] for k, v in inputs.items()})
            for i in range(0, logits.shape[0], batch_size)
        ]
        return torch.cat(maps).cpu().numpy()

    def predict_proba(self, scan: ScanLogits, model: torch.nn.Module) -> np.ndarray:
        """``softmax(z / T(x))``."""
        t = self.temperature_map(scan, model)
        z = torch.as_tensor(scan.logits, dtype=torch.float32, device=CPU)
        return torch.softmax(z / torch.as_tensor(t, device=CPU), 1).numpy()

    def _calibration_nll(
        self, scans: Sequence[ScanLogits], model: torch.nn.Module
    ) -> tuple[float, float]:
        before, after = [], []
        for scan in scans:
            assert scan.label is not None  # fit() checked (require_labels)
            z = torch.as_tensor(scan.logits, dtype=torch.float32, device=CPU)
            y = torch.as_tensor(scan.label.astype(np.int64), device=CPU)
            before.append(float(F.cross_entropy(z, y)))
            probs = torch.as_tensor(self.predict_proba(scan, model), device=CPU)
            after.append(float(F.nll_loss(probs.clamp_min(1e-12).log(), y)))
        return float(np.mean(before)), float(np.mean(after))


def train_network(
    net: torch.nn.Module, sampler: CalibrationSampler, iterations: int, lr: float, loss_fn
) -> list[float]:
    """Adam + step schedule on ``loss_fn(batch)`` for ``iterations`` sampled batches.

    Batches are sampled on the CPU and moved to the net's device.
    """
    net.train()
    device = model_device(net)
    optimiser = torch.optim.Adam(net.parameters(), lr=lr)
    schedule = step_schedule(optimiser, iterations)
    losses = []
    for _ in progress(range(iterations), desc=f"fit {type(net).__name__}"):
        loss = loss_fn(sampler.sample().to(device))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(float(loss.detach()))
    return losses
