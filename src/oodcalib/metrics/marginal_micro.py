"""Micro-averaged marginal calibration: the ACE paper's bins pooled over a data set.

Per class ``c`` and bin ``m``, over the scans ``s`` of a data set (ACE paper, §3.2)::

    n_m = sum_s n_m^s                       (counts summed)
    o_m = sum_s n_m^s o_m^s / n_m           (observed frequencies, count-weighted)
    e_m = mean of e_m^s over the scans with n_m^s > 0   (mean probabilities, UNWEIGHTED)

then ACE, MCE and ECE follow from ``(n_m, e_m, o_m)`` with the rules of
:mod:`~oodcalib.metrics.marginal` (foreground classes, empty bins skipped by ACE
and counted as 0 by MCE). The unweighted ``e_m`` is the authors' choice; a count-weighted
one would simply be the ``e_m`` of the pooled voxels.

:class:`MicroBins` keeps sums only, so it merges like
:class:`~oodcalib.metrics.bin_stats.BinStats`: build one per scan with
:meth:`MicroBins.from_scan` and add them up, in any order and grouping.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce

import numpy as np

from oodcalib.metrics.bin_stats import BinStats
from oodcalib.metrics.marginal import class_gaps


@dataclass(eq=False)
class MicroBins:
    """Sums of class-wise bin statistics over scans, for micro-averaged ACE, MCE and ECE.

    Attributes:
        counts: Voxels per class and bin, summed over scans, ``(K, n_bins)`` int64.
        acc_sum: Voxels of the row's class per bin, summed over scans, ``(K, n_bins)``.
        e_sum: Sum over scans of the scan's mean probability ``e_m^s`` in the bin, over
            the scans where the bin is not empty, ``(K, n_bins)`` float64.
        scans: Number of scans where the bin is not empty, ``(K, n_bins)`` int64.

    Example:
        >>> a = BinStats(np.array([[1, 1], [2, 0]]), np.array([[0.4, 0.6], [0.2, 0.0]]),
        ...              np.array([[0, 1], [1, 0]]))
        >>> b = BinStats(np.array([[0, 2], [1, 1]]), np.array([[0.0, 1.8], [0.3, 0.7]]),
        ...              np.array([[0, 1], [0, 1]]))
        >>> micro = MicroBins.from_scan(a) + MicroBins.from_scan(b)
        >>> [m.round(6).tolist() for m in micro.bin_means()]  # e_m: (0.1 + 0.3) / 2 = 0.2
        [[[0.4, 0.75], [0.2, 0.7]], [[0.0, 0.666667], [0.333333, 1.0]]]
        >>> round(micro.ace(), 6)  # class 1: (|1/3 - 0.2| + |1 - 0.7|) / 2
        0.216667
    """

    counts: np.ndarray
    acc_sum: np.ndarray
    e_sum: np.ndarray
    scans: np.ndarray

    @classmethod
    def from_scan(cls, stats: BinStats) -> MicroBins:
        """The contribution of one scan, from its class-wise (marginal) statistics."""
        if stats.counts.ndim != 2:
            raise ValueError(
                f"MicroBins needs class-wise statistics (K, n_bins), got shape {stats.counts.shape}"
            )
        filled = stats.counts > 0
        e_scan = np.divide(stats.conf_sum, stats.counts, out=np.zeros(filled.shape), where=filled)
        return cls(
            stats.counts.astype(np.int64),
            stats.acc_sum.astype(np.int64),
            e_scan,
            filled.astype(np.int64),
        )

    @classmethod
    def merge(cls, bins: Iterable[MicroBins]) -> MicroBins:
        """Sum of a non-empty iterable of micro statistics of the same shape."""
        return reduce(cls.__add__, bins)

    def __add__(self, other: MicroBins) -> MicroBins:
        if self.counts.shape != other.counts.shape:
            raise ValueError(
                f"cannot merge micro statistics of shapes {self.counts.shape} and "
                f"{other.counts.shape}"
            )
        return MicroBins(
            self.counts + other.counts,
            self.acc_sum + other.acc_sum,
            self.e_sum + other.e_sum,
            self.scans + other.scans,
        )

    def bin_means(self) -> tuple[np.ndarray, np.ndarray]:
        """``(e_m, o_m)`` per class and bin: unweighted and count-weighted (NaN if empty)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.e_sum / self.scans, self.acc_sum / self.counts

    def _gaps(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return class_gaps(self.counts, *self.bin_means())

    def ace(self) -> float:
        """Micro ACE: ``mean_c nanmean_m |o_m - e_m|`` over the foreground classes."""
        return float(np.mean(self._gaps()[0]))

    def mce(self) -> float:
        """Micro MCE: ``mean_c max_m |o_m - e_m|`` over the foreground classes."""
        return float(np.mean(self._gaps()[1]))

    def ece(self) -> float:
        """Micro ECE: ``mean_c sum_m n_m |o_m - e_m| / sum_m n_m`` over foreground classes."""
        return float(np.mean(self._gaps()[2]))
