"""Probability maps a network saved, read back onto the scan's own grid.

Two layouts, one file set per scan:

- **nnU-Net v2** (``nnUNetv2_predict --save_probabilities``): ``<case>.npz`` holding
  ``probabilities`` ``(C, Z, Y, X)`` in SimpleITK's axis order (the NIfTI axes reversed),
  and ``<case>.pkl``, the properties nnU-Net keeps (``sitk_stuff``, or ``spacing`` with
  ``nibabel_stuff``; ``shape_before_cropping``, ``bbox_used_for_cropping``). Maps
  cropped to the bounding box are pasted back into the full volume, and voxels outside
  it (which older nnU-Net versions leave at probability 0 in every class) become
  background.
- **NIfTI per class**: ``<case>_class<k>.nii.gz`` for every output channel ``k``.

Both are turned into the package's ``(Z, H, W)`` stack order: by the image's affine
(as :mod:`oodcalib.datasets.orientation` does) when the scan itself was read from NIfTI,
else by reading the stored ``(H, W, Z)`` volume slice-first, the inverse of
:mod:`oodcalib.corruptions.export`'s layout. The ``.pkl`` is a Python pickle: read only
files you made.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from oodcalib.datasets.io import READ_ERRORS, read_nifti
from oodcalib.datasets.orientation import canonical_order, to_canonical
from oodcalib.errors import DataError

#: Largest distance of a voxel's class sum from 1 (nnU-Net saves float16 maps).
SUM_TOLERANCE = 0.01
#: LPS (SimpleITK) to RAS (NIfTI) world axes.
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])


@dataclass
class ProbabilityMap:
    """Probabilities of one scan on its own grid.

    Attributes:
        probabilities: ``(C, Z, H, W)`` float32, in the package's stack order.
        spacing: In-plane spacing ``(row, col)`` in mm, from the files.
        path: The file read (for messages).
    """

    probabilities: np.ndarray
    spacing: tuple[float, float]
    path: str


def find_map(folder: Path, case_id: str) -> Path | None:
    """The map file of ``case_id`` in ``folder`` (its ``.npz`` or class-0 NIfTI), or None."""
    for candidate in (folder / f"{case_id}.npz", folder / f"{case_id}_class0.nii.gz"):
        if candidate.is_file():
            return candidate
    return None


def read_map(path: Path, oriented: bool) -> ProbabilityMap:
    """Read a map found by :func:`find_map` and check that it is a probability map.

    Args:
        path: The ``.npz`` or the class-0 NIfTI.
        oriented: Whether the scan was read from NIfTI and reoriented by its affine
            (``case.meta["reoriented"]``).

    Raises:
        DataError: An unreadable file, a missing ``.pkl`` or class file, a shape that
            does not fit the properties, non-finite or negative values, or classes
            that do not sum to 1 (naming the file).
    """
    if path.suffix == ".npz":
        stored, zooms, affine = _read_nnunet(path)
    else:
        stored, zooms, affine = _read_class_niftis(path)
    _check_probabilities(stored, path)
    if oriented and affine is not None:
        axes, flips = canonical_order(affine, zooms)
    else:
        axes, flips = (2, 0, 1), (False, False, False)
    probabilities = np.stack([to_canonical(p, axes, flips) for p in stored]).astype(np.float32)
    return ProbabilityMap(probabilities, (float(zooms[axes[1]]), float(zooms[axes[2]])), str(path))


def _check_probabilities(probabilities: np.ndarray, path: Path) -> None:
    if not np.isfinite(probabilities).all() or probabilities.min() < 0:
        raise DataError(path, "probabilities must be finite and >= 0 (are these logits?)")
    sums = probabilities.sum(axis=0, dtype=np.float64)
    worst = float(sums.flat[np.argmax(np.abs(sums - 1))])
    if abs(worst - 1) > SUM_TOLERANCE:
        raise DataError(
            path,
            f"probabilities do not sum to 1 over the classes (a voxel sums to {worst:.3f}); "
            "save the softmax probabilities of every class",
        )


def _read_nnunet(path: Path) -> tuple[np.ndarray, tuple[float, ...], np.ndarray | None]:
    """nnU-Net's map in NIfTI axis order ``(C, X, Y, Z)``, its zooms and affine."""
    try:
        with np.load(path, allow_pickle=False) as data:
            probabilities = np.asarray(data["probabilities"], np.float32)
    except READ_ERRORS as error:
        raise DataError(path, f"cannot read the nnU-Net probabilities ({error})") from None
    if probabilities.ndim != 4:
        raise DataError(
            path, f"'probabilities' has shape {probabilities.shape}; nnU-Net saves (C, Z, Y, X)"
        )
    properties = _properties(path.with_suffix(".pkl"))
    probabilities = _uncrop(probabilities, properties, path)
    sitk = properties.get("sitk_stuff")
    affine: np.ndarray | None
    if sitk is not None:
        zooms = tuple(float(s) for s in sitk["spacing"])
        direction = np.asarray(sitk["direction"], float).reshape(3, 3)
        affine = np.eye(4)
        affine[:3, :3] = LPS_TO_RAS @ direction @ np.diag(zooms)
        affine[:3, 3] = LPS_TO_RAS @ np.asarray(sitk["origin"], float)
    elif "spacing" in properties:
        zooms = tuple(float(s) for s in reversed(properties["spacing"]))
        nibabel = properties.get("nibabel_stuff") or {}  # NibabelIO(WithReorient)'s affine
        found = nibabel.get("reoriented_affine", nibabel.get("original_affine"))
        affine = None if found is None else np.asarray(found, float)
    else:
        raise DataError(path.with_suffix(".pkl"), "holds no 'spacing' (nor 'sitk_stuff')")
    return probabilities.transpose(0, 3, 2, 1), zooms, affine


def _properties(path: Path) -> dict:
    if not path.is_file():
        raise DataError(
            path, "missing: nnU-Net writes the properties (spacing, bbox) beside the .npz"
        )
    try:
        with path.open("rb") as f:
            properties = pickle.load(f)  # noqa: S301 - the user's own nnU-Net output
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as error:
        raise DataError(path, f"cannot read the nnU-Net properties ({error})") from None
    if not isinstance(properties, dict):
        raise DataError(path, "not an nnU-Net properties dict")
    return properties


def _uncrop(probabilities: np.ndarray, properties: dict, path: Path) -> np.ndarray:
    """The map on the full volume: pasted into ``shape_before_cropping``, outside = background."""
    full, bbox = properties.get("shape_before_cropping"), properties.get("bbox_used_for_cropping")
    if full is None or bbox is None:
        return probabilities
    full = tuple(int(n) for n in full)
    box = tuple(slice(int(lo), int(hi)) for lo, hi in bbox)
    extent = tuple(s.stop - s.start for s in box)
    shape = probabilities.shape[1:]
    if shape == extent and shape != full:
        pasted = np.zeros((probabilities.shape[0], *full), np.float32)
        pasted[(slice(None),) + box] = probabilities
        probabilities = pasted
    elif shape != full:
        raise DataError(
            path,
            f"geometry mismatch: probabilities of shape {shape} fit neither the scan "
            f"({full}, shape_before_cropping) nor its bounding box ({extent})",
        )
    outside = np.ones(full, bool)
    outside[box] = False
    empty = outside & (probabilities.sum(axis=0) == 0)
    probabilities[0][empty] = 1.0
    return probabilities


def _read_class_niftis(first: Path) -> tuple[np.ndarray, tuple[float, ...], np.ndarray]:
    """The class NIfTIs ``<case>_class<k>.nii.gz`` stacked, with their zooms and affine."""
    stem = first.name.removesuffix("_class0.nii.gz")
    maps: list[np.ndarray] = []
    k = 0
    while (path := first.parent / f"{stem}_class{k}.nii.gz").is_file():
        array, image = read_nifti(path)
        if maps and array.shape != maps[0].shape:
            raise DataError(path, f"shape {array.shape} differs from class 0's {maps[0].shape}")
        maps.append(array)
        k += 1
    zooms = tuple(float(z) for z in image.header.get_zooms()[:3])
    return np.stack(maps), zooms, image.affine
