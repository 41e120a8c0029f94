"""Cached augmented passes per (fold, domain, case), shared by every method and setting.

Layout: ``fold{k}/passes/{domain}/{case}/n{count}.npz`` holds the running softmax sums
after ``count`` passes (:class:`~oodcalib.baselines.common.augmented_passes.PassStatistics`).
A request for ``n`` passes loads ``n`` if cached, else extends the largest cached count
below ``n``, saving snapshots at ``n`` and at every requested ablation value on the way.
So Alea., Proposed, its repeats and the ``N_A`` ablation all share one set of passes, and
a longer ``N_A`` only runs the passes it lacks. The seeds are those of
:class:`~oodcalib.baselines.common.augmented_passes.AugmentedPasses`.

Snapshots are stored as float32 (half the disk of the float64 running sums). The sums
carried on from a snapshot are the stored ones, read back, in every session: a run
killed between two snapshots resumes from the file with exactly the numbers an
uninterrupted run carried on with, so its results are the same to the last bit.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch

from oodcalib.atomic import atomic_write, read_cache
from oodcalib.baselines.common.augmented_passes import (
    AugmentedPasses,
    PassStatistics,
    extend_passes,
    output_classes,
)
from oodcalib.benchmark.protocol.forward_counter import ForwardCounter


class PassCache(AugmentedPasses):
    """Augmented-pass statistics of one fold's segmentation net, on disk.

    Args:
        root: Cache directory (``fold{k}/passes``).
        model: The fold's frozen segmentation net.
        seed: Base seed; the passes of a scan depend on ``(seed, domain, case)`` only, so
            every fold augments a scan the same way.
        snapshots: Pass counts saved on the way to a larger request (ablation values).
        counter: Counts the new passes under the stage ``passes``.
    """

    def __init__(
        self,
        root: Path,
        model: torch.nn.Module,
        seed: int,
        snapshots: Iterable[int] = (),
        counter: ForwardCounter | None = None,
    ):
        super().__init__(model, seed)
        self.root, self.counter = Path(root), counter
        self.snapshots = sorted(set(snapshots))

    def cached_counts(self, domain: str, case_id: str) -> list[int]:
        """Pass counts with a snapshot on disk."""
        directory = self.root / domain / case_id
        return sorted(int(p.stem[1:]) for p in directory.glob("n*.npz"))

    def statistics(
        self, domain: str, case_id: str, image: np.ndarray, num_aug: int
    ) -> PassStatistics:
        """Statistics over the first ``num_aug`` passes of ``image``, computed as needed."""
        directory = self.root / domain / case_id
        stats = None
        for n in reversed([n for n in self.cached_counts(domain, case_id) if n <= num_aug]):
            stats = read_cache(directory / f"n{n}.npz", self._load, "augmented passes")
            if stats is not None and stats.count == n:
                break
            stats = None
        if stats is not None and stats.count == num_aug:
            return stats
        if stats is None:
            shape = (image.shape[0], output_classes(self.model), *image.shape[1:])
            stats = PassStatistics.empty(shape)
        seed = self.scan_seed(domain, case_id)
        stops = [n for n in self.snapshots if stats.count < n < num_aug] + [num_aug]
        stage = self.counter.stage("passes") if self.counter else nullcontext()
        with stage:
            for stop in stops:
                stats = extend_passes(stats, self.model, image, stop, seed)
                stats = self._save(directory / f"n{stop}.npz", stats)  # as a resume reads it
        return stats

    def calibration_pool(self, scans, draws: int, copies: int = 0, augment: bool = True):
        """The shared calibration pool (in memory), its passes counted under ``pool``."""
        with self.counter.stage("pool") if self.counter else nullcontext():
            return super().calibration_pool(scans, draws, copies, augment)

    @staticmethod
    def _load(path: Path) -> PassStatistics:
        with np.load(path) as data:
            return PassStatistics(
                int(data["count"]),
                data["total"].astype(np.float64),
                data["total_sq"].astype(np.float64),
            )

    @staticmethod
    def _save(path: Path, stats: PassStatistics) -> PassStatistics:
        """Write a snapshot (float32); return it as :meth:`_load` reads it back."""
        total, total_sq = stats.total.astype(np.float32), stats.total_sq.astype(np.float32)
        atomic_write(path, lambda f: np.savez(f, count=stats.count, total=total, total_sq=total_sq))
        return PassStatistics(stats.count, total.astype(np.float64), total_sq.astype(np.float64))
