"""Susceptibility: softmax statistics over photometrically augmented passes.

Pass ``i`` of a scan augments every slice with :func:`~oodcalib.benchmark.augmentation.photometric`
(the training augmentation, never a test corruption) under a generator seeded by
``derive_seed(seed, i)``. Passes are therefore replayable one by one, and the first ``n``
passes of a longer run are the ``n`` passes of a shorter one (up to float round-off of
differently sized batches): statistics for ``N_A = 15`` extend to ``N_A = 180`` without
redoing the first 15.

The mean over passes is the test-time-augmentation (aleatoric) prediction; the mean and
the spread (population standard deviation, ``ddof = 0``) are the paper's susceptibility
maps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from oodcalib.benchmark.augmentation import AugmentationConfig, photometric
from oodcalib.errors import OodcalibError
from oodcalib.seeding import derive_seed

#: Ranges of the test-time augmentation: the photometric part of the training augmentation.
TTA_AUGMENTATION = AugmentationConfig()


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


@torch.no_grad()
def extend_passes(stats: PassStatistics, model: torch.nn.Module, image: np.ndarray,
                  stop: int, seed: int, batch_size: int = 32,
                  augmentation: AugmentationConfig = TTA_AUGMENTATION) -> PassStatistics:
    """Add passes ``stats.count, ..., stop - 1`` of ``image`` to ``stats``.

    Args:
        stats: Statistics of the passes done so far (not modified).
        model: The frozen segmentation network.
        image: ``(Z, H, W)`` normalised stack.
        stop: Number of passes wanted in total.
        seed: Seed of this scan's passes (pass ``i`` uses ``derive_seed(seed, i)``).
        batch_size: Slices per forward call.
        augmentation: Photometric ranges.

    Returns:
        New statistics over ``stop`` passes.

    Example:
        >>> from oodcalib.benchmark.unet import UNet
        >>> net = UNet(width=2, depth=2).eval()
        >>> image = np.random.default_rng(0).random((2, 8, 8)).astype(np.float32)
        >>> s4 = extend_passes(PassStatistics.empty((2, 4, 8, 8)), net, image, 4, seed=1)
        >>> s2 = extend_passes(PassStatistics.empty((2, 4, 8, 8)), net, image, 2, seed=1)
        >>> bool(np.allclose(extend_passes(s2, net, image, 4, seed=1).total, s4.total))
        True
    """
    was_training = model.training
    model.eval()
    x = torch.as_tensor(np.ascontiguousarray(image), dtype=torch.float32).unsqueeze(1)
    z = x.shape[0]
    total, total_sq = stats.total.copy(), stats.total_sq.copy()
    per_chunk = max(1, batch_size // z)
    for first in range(stats.count, stop, per_chunk):
        indices = range(first, min(first + per_chunk, stop))
        batch = torch.cat([
            photometric(x, torch.Generator().manual_seed(derive_seed(seed, i)), augmentation)
            for i in indices
        ])
        probs = torch.cat([torch.softmax(model(batch[j : j + batch_size]), dim=1)
                           for j in range(0, batch.shape[0], batch_size)])
        probs = probs.double().view(len(indices), z, *probs.shape[1:])
        total += probs.sum(0).numpy()
        total_sq += (probs**2).sum(0).numpy()
    model.train(was_training)
    return PassStatistics(max(stop, stats.count), total, total_sq)


def susceptibility(scan, model: torch.nn.Module, num_aug: int,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean and spread of the softmax over ``num_aug`` augmented passes of ``scan``.

    Uses the scan's cached passes (``scan.passes``, set by the benchmark so that Alea.
    and Proposed share them) when present; otherwise runs the passes now, seeded by
    ``seed`` and the case id.

    Returns:
        ``(mean, spread)``, each ``(Z, C, H, W)`` float32.
    """
    if num_aug < 1:
        raise OodcalibError(f"num_aug must be >= 1, got {num_aug}")
    if scan.passes is not None:
        return scan.passes(num_aug)
    stats = PassStatistics.empty(scan.logits.shape)
    stats = extend_passes(stats, model, scan.image, num_aug, derive_seed(seed, scan.case_id))
    return stats.mean, stats.spread
