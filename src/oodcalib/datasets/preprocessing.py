"""Preprocessing shared by all sources: resampling, crop/pad, resizing and normalisation.

Every domain goes through the same steps (:func:`prepare_case`): resample in-plane to the
target spacing, centre-crop or pad to ``data.size``, resize to the network's input side
``data.input_size``. Corruptions are simulated on that grid, the one the network sees,
as in the authors' recipe; :func:`robust_normalise` comes last, just before the network.
The crop is always centred on the image grid, never on the label, so test cases carry no
ground-truth information into the network input.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from skimage.transform import resize

from oodcalib.datasets.case import Case
from oodcalib.errors import DataError

#: Sides (px) a resampled slice may have: outside, the header's pixel size is wrong.
MIN_SIDE, MAX_SIDE = 1, 4096


def robust_normalise(image: np.ndarray, low: float = 0.5, high: float = 99.5) -> np.ndarray:
    """Clip a volume to its ``[low, high]`` percentiles and scale it to ``[0, 1]``.

    Args:
        image: Any-shaped array (one volume).
        low: Lower percentile.
        high: Upper percentile.

    Returns:
        float32 array in ``[0, 1]`` (all zeros for a constant volume).

    Example:
        >>> x = robust_normalise(np.arange(101, dtype=float), 0, 100)
        >>> float(x.min()), float(x.max()), float(x[50])
        (0.0, 1.0, 0.5)
    """
    lo, hi = np.percentile(image, [low, high])
    if hi <= lo:
        return np.zeros(image.shape, np.float32)
    return ((np.clip(image, lo, hi) - lo) / (hi - lo)).astype(np.float32)


def crop_or_pad(array: np.ndarray, size: int, pad_value: float = 0.0) -> np.ndarray:
    """Centre-crop or zero-pad the last two axes of ``array`` to ``size x size``.

    Example:
        >>> crop_or_pad(np.ones((2, 5, 3)), 4).shape
        (2, 4, 4)
        >>> crop_or_pad(np.arange(6).reshape(1, 1, 6), 2).tolist()
        [[[2, 3], [0, 0]]]
    """
    out = array
    for axis in (-2, -1):
        n = out.shape[axis]
        if n > size:
            start = (n - size) // 2
            out = np.take(out, np.arange(start, start + size), axis=axis)
        elif n < size:
            before = (size - n) // 2
            widths = [(0, 0)] * out.ndim
            widths[axis] = (before, size - n - before)
            out = np.pad(out, widths, constant_values=pad_value)
    return out


def resample_inplane(case: Case, target_spacing: float, *, tolerance: float = 0.05) -> Case:
    """Resample a case in-plane to isotropic ``target_spacing`` mm, slice by slice.

    Each slice is resized on its own in 2D with scikit-image (``skimage.transform.resize``),
    so no slice leaks into its neighbours: images by cubic spline, Gaussian-smoothed first
    when shrinking (``anti_aliasing``), labels by the nearest pixel. The new side is
    ``round(side * spacing / target_spacing)``. Cases without a known spacing, or within
    ``tolerance`` (relative) of the target, are returned unchanged.

    Args:
        case: The case to resample.
        target_spacing: Desired in-plane pixel size in mm.
        tolerance: Relative spacing difference below which nothing is done.

    Returns:
        The resampled case with ``spacing`` updated.
    """
    if case.spacing is None:
        return case
    zoom = [s / target_spacing for s in case.spacing]
    if all(abs(z - 1.0) <= tolerance for z in zoom):
        return case
    shape = tuple(round(n * z) for n, z in zip(case.image.shape[1:], zoom, strict=True))
    if not all(MIN_SIDE <= n <= MAX_SIDE for n in shape):
        raise DataError(
            case.source or case.case_id,
            f"pixel size {' x '.join(f'{s:g}' for s in case.spacing)} mm (the header's "
            f"zooms) would resample the {case.image.shape[1]} x {case.image.shape[2]} px "
            f"slices to {shape[0]} x {shape[1]} px at {target_spacing:g} mm (data.spacing); "
            f"a side must stay within {MIN_SIDE}..{MAX_SIDE} px: the header's pixel size "
            "looks wrong (fix its pixdim)",
        )
    shrinking = any(z < 1.0 for z in zoom)
    image = np.stack(
        [
            resize(
                s.astype(np.float32),
                shape,
                order=3,
                mode="edge",
                anti_aliasing=shrinking,
                preserve_range=True,
            )
            for s in case.image
        ]
    )
    label = None
    if case.label is not None:
        label = np.stack(
            [
                resize(s, shape, order=0, mode="edge", anti_aliasing=False, preserve_range=True)
                for s in case.label
            ]
        ).astype(np.uint8)
    return case.with_arrays(
        image.astype(np.float32), label, spacing=(target_spacing, target_spacing)
    )


def prepare_case(
    case: Case, size: int, target_spacing: float | None, input_size: int | None = None
) -> Case:
    """Resample (when the spacing is known), crop/pad to ``size``, resize to ``input_size``.

    The result is on the network's pixel grid: ``size x size`` pixels of
    ``target_spacing`` mm cover the field of view, and with ``input_size``
    (``data.input_size``) they are resized to ``input_size x input_size``
    (:func:`resize_inplane`). Intensities are left raw here; corruptions are simulated on
    this grid, and :func:`robust_normalise` is applied just before the network, so every
    domain passes through the same normalisation. The scan's own grid is kept in
    ``meta["grid"]`` (``shape``, ``spacing``): saved probability maps are checked
    against it.
    """
    spacing = None if case.spacing is None else [float(s) for s in case.spacing]
    grid = {"shape": [int(n) for n in case.image.shape], "spacing": spacing}  # JSON-friendly
    case = case.with_arrays(case.image, meta={**case.meta, "grid": grid})
    if target_spacing is not None:
        case = resample_inplane(case, target_spacing)
    image = crop_or_pad(case.image, size, pad_value=float(case.image.min()))
    label = None if case.label is None else crop_or_pad(case.label, size)
    case = case.with_arrays(image.astype(np.float32), label)
    return case if input_size is None else resize_inplane(case, input_size)


def resize_inplane(case: Case, size: int) -> Case:
    """Resize the last two axes of a (square) case to ``size x size``.

    The image is area-averaged (no aliasing when shrinking) and the label takes the
    nearest pixel, so both keep the field of view; the spacing scales accordingly. Used
    before any corruption, so artifacts are simulated on the grid the network sees.

    Example:
        >>> from oodcalib.datasets.case import Case
        >>> case = Case("a", np.ones((2, 10, 10), np.float32), np.ones((2, 10, 10), np.uint8), "x")
        >>> small = resize_inplane(case, 6)
        >>> small.image.shape, small.label.shape, float(small.image.max())
        ((2, 6, 6), (2, 6, 6), 1.0)
    """
    if case.image.shape[-2:] == (size, size):
        return case
    stack = torch.as_tensor(np.ascontiguousarray(case.image), dtype=torch.float32)
    image = F.interpolate(stack[:, None], size=(size, size), mode="area")[:, 0].numpy()
    label = None
    if case.label is not None:
        as_float = torch.as_tensor(case.label.astype(np.float32))[:, None]
        resized = F.interpolate(as_float, size=(size, size), mode="nearest-exact")[:, 0]
        label = resized.numpy().astype(np.uint8)
    spacing = None
    if case.spacing is not None:
        factor = case.image.shape[-1] / size
        spacing = tuple(float(s) * factor for s in case.spacing)
    return case.with_arrays(image, label, spacing=spacing)
