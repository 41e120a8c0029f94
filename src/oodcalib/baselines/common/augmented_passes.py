"""Test-time passes: softmax statistics over photometrically augmented passes (susceptibility).

Pass ``i`` of a scan augments every slice with
:func:`~oodcalib.segmentation.augmentation.photometric` (the training
augmentation, never a test corruption) under a generator seeded by ``derive_seed(seed, i)``
(see :class:`AugmentedPasses` for the seed of a scan). Passes are therefore replayable one
by one, and the first ``n`` passes of a longer run are the ``n`` passes of a shorter one
(up to float round-off of differently sized batches): statistics for ``N_A = 15`` extend
to ``N_A = 180`` without redoing the first 15.

The mean over passes is the test-time-augmentation (aleatoric) prediction; the mean and
the spread (population standard deviation, ``ddof = 0``) are the paper's susceptibility
maps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from oodcalib.baselines.common.calibration_pool import (
    CalibrationPool,
    add_susceptibility,
    draw_slices,
)
from oodcalib.errors import OodcalibError
from oodcalib.seeding import derive_seed
from oodcalib.segmentation.augmentation import (
    TTA_AUGMENTATION,
    AugmentationConfig,
    photometric,
)
from oodcalib.segmentation.batching import forward_in_batches, slices_per_batch
from oodcalib.segmentation.device import model_device, to_device

__all__ = [
    "TTA_AUGMENTATION",
    "AugmentedPasses",
    "PassStatistics",
    "extend_passes",
    "output_classes",
    "susceptibility",
]


@dataclass
class PassStatistics:
    """Running sums of softmax probabilities over the first ``count`` passes.

    Attributes:
        count: Number of passes summed.
        total: ``(Z, C, H, W)`` sum of the softmax of each pass.
        total_sq: ``(Z, C, H, W)`` sum of its square.
    """

    count: int
    total: np.ndarray
    total_sq: np.ndarray

    @property
    def mean(self) -> np.ndarray:
        """Mean softmax over passes (float32)."""
        return (self.total / max(self.count, 1)).astype(np.float32)

    @property
    def spread(self) -> np.ndarray:
        """Standard deviation of the softmax over passes (float32, ``ddof = 0``)."""
        n = max(self.count, 1)
        variance = np.maximum(self.total_sq / n - (self.total / n) ** 2, 0.0)
        return np.sqrt(variance).astype(np.float32)

    @classmethod
    def empty(cls, shape: tuple[int, ...]) -> PassStatistics:
        """No passes yet."""
        return cls(0, np.zeros(shape, np.float64), np.zeros(shape, np.float64))


#: Forward batches per chunk of augmented copies (memory: 64 slices' probabilities).
CHUNK_BATCHES = 8


@torch.no_grad()
def extend_passes(
    stats: PassStatistics,
    model: torch.nn.Module,
    image: np.ndarray,
    stop: int,
    seed: int,
    batch_size: int | None = None,
    augmentation: AugmentationConfig = TTA_AUGMENTATION,
) -> PassStatistics:
    """Add passes ``stats.count, ..., stop - 1`` of ``image`` to ``stats``.

    Args:
        stats: Statistics of the passes done so far (not modified).
        model: The frozen segmentation network.
        image: ``(Z, H, W)`` normalised stack.
        stop: Number of passes wanted in total.
        seed: Seed of this scan's passes (pass ``i`` uses ``derive_seed(seed, i)``).
        batch_size: Slices per forward call (default
            :func:`~oodcalib.segmentation.batching.slices_per_batch`).
        augmentation: Photometric ranges.

    Returns:
        New statistics over ``stop`` passes.

    Example:
        >>> from oodcalib.segmentation.unet import UNet
        >>> net = UNet(width=2, depth=2).eval()
        >>> image = np.random.default_rng(0).random((2, 8, 8)).astype(np.float32)
        >>> s4 = extend_passes(PassStatistics.empty((2, 4, 8, 8)), net, image, 4, seed=1)
        >>> s2 = extend_passes(PassStatistics.empty((2, 4, 8, 8)), net, image, 2, seed=1)
        >>> bool(np.allclose(extend_passes(s2, net, image, 4, seed=1).total, s4.total))
        True
    """
    was_training = model.training
    model.eval()
    device = model_device(model)  # augmented on the CPU (seeded), run on the model's device
    x = torch.as_tensor(np.ascontiguousarray(image), dtype=torch.float32, device="cpu")
    x = x.unsqueeze(1)
    z = x.shape[0]
    if batch_size is None:
        batch_size = slices_per_batch(image.shape[-2], image.shape[-1], device.type)
    total, total_sq = stats.total.copy(), stats.total_sq.copy()
    # copies go through the network together, about 8 batches at a time, so only the
    # chunk's last batch is short (a compiled U-Net pads short batches to full ones)
    per_chunk = max(1, CHUNK_BATCHES * batch_size // z)
    for first in range(stats.count, stop, per_chunk):
        indices = range(first, min(first + per_chunk, stop))
        batch = torch.cat(
            [
                photometric(
                    x, torch.Generator(device="cpu").manual_seed(derive_seed(seed, i)), augmentation
                )
                for i in indices
            ]
        )
        logits = forward_in_batches(model, to_device(batch, device), batch_size)
        probs = torch.softmax(logits, dim=1).double().view(len(indices), z, *logits.shape[1:])
        total += probs.sum(0).cpu().numpy()
        total_sq += (probs**2).sum(0).cpu().numpy()
    model.train(was_training)
    return PassStatistics(max(stop, stats.count), total, total_sq)


class AugmentedPasses:
    """Source of the augmented passes of a frozen segmentation net, one seeding scheme.

    Pass ``i`` of the scan ``case_id`` of ``domain`` is seeded by
    ``derive_seed(derive_seed(seed, "passes", domain, case_id), i)``: it depends on
    neither the method, nor the repeat, nor the number of passes requested, so Alea.,
    Proposed, their repeats and every ``N_A`` share the same passes. This class computes
    them in memory; the benchmark uses its disk-cached subclass
    (:class:`~oodcalib.benchmark.protocol.pass_cache.PassCache`), with the same seeds.

    Args:
        model: The frozen segmentation net.
        seed: Base seed of every pass.
    """

    def __init__(self, model: torch.nn.Module, seed: int = 0):
        self.model, self.seed = model, seed
        self._pools: dict[tuple, CalibrationPool] = {}

    def calibration_pool(
        self, scans, draws: int, copies: int = 0, augment: bool = True
    ) -> CalibrationPool:
        """``draws`` augmented versions of every calibration slice, computed once per key.

        See :mod:`~oodcalib.baselines.common.calibration_pool`. The slices and logits of a
        pool are shared by requests that differ only in ``copies`` (LTS asks for none,
        Proposed for its ``train_copies``).
        """
        seed = derive_seed(self.seed, "calibration-pool")
        key = (tuple(s.case_id for s in scans), draws, augment)
        if key not in self._pools:
            self._pools[key] = draw_slices(scans, self.model, draws, seed, augment)
        if copies and key + (copies,) not in self._pools:
            self._pools[key + (copies,)] = add_susceptibility(
                self._pools[key], self.model, copies, seed
            )
        return self._pools[key + (copies,) if copies else key]

    def scan_seed(self, domain: str, case_id: str) -> int:
        """Seed of the passes of one scan."""
        return derive_seed(self.seed, "passes", domain, case_id)

    def statistics(
        self, domain: str, case_id: str, image: np.ndarray, num_aug: int
    ) -> PassStatistics:
        """Statistics over the first ``num_aug`` passes of ``image``."""
        shape = (image.shape[0], output_classes(self.model), *image.shape[1:])
        return extend_passes(
            PassStatistics.empty(shape), self.model, image, num_aug, self.scan_seed(domain, case_id)
        )


def output_classes(model: torch.nn.Module) -> int:
    """Number of classes a segmentation net outputs (its ``head`` channels; 4 if unknown)."""
    head = getattr(model, "head", None)
    return int(head.out_channels) if head is not None else 4


def susceptibility(scan, model: torch.nn.Module, num_aug: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and spread of the softmax over ``num_aug`` augmented passes of ``scan``.

    The passes come from ``scan.passes`` (a :class:`AugmentedPasses`; the benchmark attaches
    its cache so that every method reuses the same passes), or from a fresh
    ``AugmentedPasses(model)`` when the scan has none.

    Returns:
        ``(mean, spread)``, each ``(Z, C, H, W)`` float32.
    """
    if num_aug < 1:
        raise OodcalibError(f"num_aug must be >= 1, got {num_aug}")
    source = scan.passes if scan.passes is not None else AugmentedPasses(model)
    stats = source.statistics(scan.domain, scan.case_id, scan.image, num_aug)
    return stats.mean, stats.spread
