"""Writers of nnU-Net v2 ``--save_probabilities`` files, for the tests.

The layout is nnunetv2's ``export_prediction_from_logits``: ``<case>.npz`` with
``probabilities`` ``(C, Z, Y, X)`` (SimpleITK's array order of the image file, float16)
and ``<case>.pkl``, the image properties of its reader (``sitk_stuff`` with the file's
spacing, origin and direction, ``spacing`` in array order) plus the cropping ones
(``shape_before_cropping``, ``bbox_used_for_cropping``,
``shape_after_cropping_and_before_resampling``). Probabilities outside the bounding box
are 0 in every class, as nnU-Net 2.0-2.2 wrote them.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

LPS = np.diag([-1.0, -1.0, 1.0])


def write_nnunet(
    stem: Path,
    stored: np.ndarray,
    affine: np.ndarray,
    bbox: list[list[int]] | None = None,
    cropped: bool = False,
    dtype: type = np.float16,
) -> Path:
    """Write ``stored`` ``(C, *nifti_shape)`` probabilities as nnU-Net would.

    Args:
        stem: ``<folder>/<case>`` (the ``.npz`` and ``.pkl`` are added).
        stored: Probabilities in the image file's NIfTI array order ``(C, X, Y, Z)``.
        affine: The image file's NIfTI (RAS) affine.
        bbox: nnU-Net's crop box in SimpleITK order; the map is zero outside it.
        cropped: Save only the box (a map on ``shape_after_cropping``).
        dtype: Of the saved map (nnU-Net saves float16).
    """
    sitk_array = stored.transpose(0, 3, 2, 1)  # SimpleITK reverses the NIfTI axes
    full = sitk_array.shape[1:]
    zooms = np.linalg.norm(affine[:3, :3], axis=0)
    direction = LPS @ affine[:3, :3] / zooms
    box = bbox or [[0, n] for n in full]
    inside = tuple(slice(lo, hi) for lo, hi in box)
    kept = np.zeros_like(sitk_array)
    kept[(slice(None),) + inside] = sitk_array[(slice(None),) + inside]
    saved = kept[(slice(None),) + inside] if cropped else kept
    properties = {
        "sitk_stuff": {
            "spacing": tuple(float(z) for z in zooms),
            "origin": tuple(float(o) for o in LPS @ affine[:3, 3]),
            "direction": tuple(float(d) for d in direction.ravel()),
        },
        "spacing": [float(z) for z in zooms[::-1]],
        "shape_before_cropping": full,
        "bbox_used_for_cropping": box,
        "shape_after_cropping_and_before_resampling": tuple(hi - lo for lo, hi in box),
    }
    np.savez_compressed(stem.with_suffix(".npz"), probabilities=saved.astype(dtype))
    with stem.with_suffix(".pkl").open("wb") as f:
        pickle.dump(properties, f)
    return stem.with_suffix(".npz")


def one_hot(label: np.ndarray, classes: int = 4) -> np.ndarray:
    """``(C, *label.shape)`` float32 one-hot map of ``label``."""
    return (np.arange(classes).reshape(-1, *[1] * label.ndim) == label[None]).astype(np.float32)
