"""The calibration pixels of the global calibrators (TS, IR, Platt): one seeded subsample.

TS, isotonic regression and Platt scaling all fit on the same pixels: every pixel of every
calibration scan (whole slices, no region of interest), pooled, then, when there are more
than ``max_pixels``, a uniform subsample without replacement drawn by
``numpy.random.default_rng(random_state).choice(N, max_pixels, replace=False)``. The same
seed therefore gives the three methods exactly the same pixels, in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from oodcalib.baselines.base import ScanLogits, require_labels
from oodcalib.errors import OodcalibError


def calibration_pixels(
    scans: Sequence[ScanLogits], max_pixels: int | None, random_state: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pooled (and seeded-subsampled) logits and labels of the calibration scans.

    Pixels are numbered scan by scan in ``(z, h, w)`` order, i.e. as
    ``np.moveaxis(scan.logits, 1, -1).reshape(-1, C)`` stacked over the scans; with ``N``
    pixels in all and ``max_pixels < N``, the kept pixels are
    ``keep = default_rng(random_state).choice(N, max_pixels, replace=False)``, in that
    order. Only the kept pixels are gathered (scan by scan), so memory is
    ``O(max_pixels * C)`` beyond the scans themselves.

    Args:
        scans: Labelled calibration scans with ``(Z, C, H, W)`` logits.
        max_pixels: Largest number of pixels returned; ``None`` (or at least ``N``)
            returns every pixel, without drawing any random number.
        random_state: Seed of the subsample.

    Returns:
        ``(logits, labels)``: ``(M, C)`` float32 logits and ``(M,)`` int64 labels, with
        ``M = min(N, max_pixels)``.

    Raises:
        OodcalibError: If ``scans`` is empty, a scan has no label, or the scans disagree
            on the number of classes.

    Example:
        >>> scan = ScanLogits("c", np.zeros((2, 3, 3)), np.ones((2, 4, 3, 3)),
        ...                   np.zeros((2, 3, 3), np.uint8))
        >>> logits, labels = calibration_pixels([scan, scan], 10, random_state=0)
        >>> logits.shape, logits.dtype, labels.shape, labels.dtype
        ((10, 4), dtype('float32'), (10,), dtype('int64'))
        >>> calibration_pixels([scan], None, random_state=0)[0].shape
        (18, 4)
    """
    scan_labels = require_labels(scans)
    classes = {s.logits.shape[1] for s in scans}
    if len(classes) > 1:
        raise OodcalibError(f"calibration scans have different class counts: {sorted(classes)}")
    sizes = [label.size for label in scan_labels]
    total, num_classes = int(np.sum(sizes)), classes.pop()
    if max_pixels is None or total <= max_pixels:
        keep = np.arange(total)
    else:
        keep = np.random.default_rng(random_state).choice(total, max_pixels, replace=False)
    logits = np.empty((len(keep), num_classes), np.float32)
    labels = np.empty(len(keep), np.int64)
    start = 0
    for scan, label, size in zip(scans, scan_labels, sizes, strict=True):
        inside = (keep >= start) & (keep < start + size)
        local = keep[inside] - start
        z, c, h, w = scan.logits.shape
        slice_index, pixel = np.divmod(local, h * w)
        logits[inside] = scan.logits.reshape(z, c, h * w)[slice_index, :, pixel]
        labels[inside] = label.reshape(-1)[local]
        start += size
    return logits, labels
