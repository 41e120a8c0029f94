"""File-reading helpers shared by the loaders: every read failure becomes a DataError.

The helpers read whole volumes into memory, check the few things every loader needs
(a 3D array, finite values, an existing directory, a label stored on the image's voxel
grid) and raise :class:`~oodcalib.errors.DataError` naming the offending file otherwise.
"""

from __future__ import annotations

import warnings
import zlib
from pathlib import Path
from typing import cast

import h5py
import nibabel as nib
import numpy as np
from nibabel.filebasedimages import ImageFileError
from nibabel.spatialimages import HeaderDataError

from oodcalib.errors import DataError

#: Exceptions that mean "this file cannot be read" (missing, truncated, corrupt, wrong type).
READ_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    KeyError,
    zlib.error,
    ImageFileError,
    HeaderDataError,  # a header nibabel cannot make sense of (dim[0] = -5, ...)
)

#: Identity map of the package's own label codes (1 RV, 2 MYO, 3 LV).
IDENTITY_LABELS: dict[int, int] = {1: 1, 2: 2, 3: 3}


def require_dir(root: str | Path, expected: str) -> Path:
    """Return ``root`` as a Path, or raise a DataError saying what should be there.

    Args:
        root: Directory to check.
        expected: Description of the expected content, for the message.

    Returns:
        The directory as a :class:`~pathlib.Path`.

    Example:
        >>> require_dir("/no/such/dir", "NIfTI files")
        Traceback (most recent call last):
        ...
        oodcalib.errors.DataError: /no/such/dir: directory not found; expected NIfTI files
    """
    path = Path(root).expanduser()
    if not path.is_dir():
        raise DataError(path, f"directory not found; expected {expected}")
    return path


def _load_nifti(path: str | Path) -> nib.Nifti1Image:
    """``nib.load``, typed as the NIfTI image it returns for ``.nii`` / ``.nii.gz`` files."""
    # nibabel annotates nib.load with the base class of every format it reads
    return cast(nib.Nifti1Image, nib.load(str(path)))


def read_nifti(
    path: str | Path, *, label: bool = False, frame: int | None = None, origin: str = "data.frame"
) -> tuple[np.ndarray, nib.Nifti1Image]:
    """Read a 3D NIfTI volume (or one frame of a 4D one) and its header.

    Args:
        path: The ``.nii`` or ``.nii.gz`` file.
        label: Whether the file is a label map: its raw (integer) codes are returned
            instead of float32 intensities.
        frame: For a 4D ``(H, W, Z, T)`` file, the frame to read (0-based).
        origin: Where ``frame`` came from (``data.frame``, or a sidecar), for messages.

    Returns:
        ``(array, image)``: the voxel array as stored (a trailing singleton 4th axis is
        dropped) and the nibabel image, for its affine and zooms.

    Raises:
        DataError: If the file is missing, unreadable, not 3D, or 4D with no (or a bad)
            ``frame``.
    """
    try:
        img = _load_nifti(path)
        frames = img.shape[3] if len(img.shape) == 4 else 1
        if frames > 1 and frame is None:
            raise DataError(
                path,
                f"4D file with {frames} frames; choose one with --set "
                "data.frame=ED|ES|<index> (ED/ES need a sidecar, see "
                "the nifti source)",
            )
        if frames > 1 and frame is not None and not 0 <= frame < frames:
            raise DataError(
                path,
                f"frame {frame} out of range: the file has {frames} frames "
                f"(0..{frames - 1}; the frame is {origin})",
            )
        data = img.dataobj[..., frame] if frames > 1 else img.dataobj
        array = np.asanyarray(data) if label else np.asarray(data, dtype=np.float32)
    except DataError:  # a ValueError, already naming the file
        raise
    except READ_ERRORS as err:
        raise DataError(path, f"cannot read NIfTI file ({type(err).__name__}: {err})") from err
    if array.ndim == 4 and array.shape[3] == 1:
        array = array[..., 0]
    if array.ndim != 3:
        raise DataError(path, f"expected a 3D volume, got shape {array.shape}")
    return array, img


def read_hdf5(path: str | Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Read whole datasets ``keys`` from an HDF5 file.

    Raises:
        DataError: If the file cannot be read or a key is missing.
    """
    try:
        with h5py.File(path, "r") as f:
            found = sorted(f)
            data = {k: np.asarray(f[k][()]) for k in keys if k in f}
    except READ_ERRORS as err:
        raise DataError(path, f"cannot read HDF5 file ({type(err).__name__}: {err})") from err
    missing = [k for k in keys if k not in data]
    if missing:
        raise DataError(path, f"missing HDF5 dataset(s) {missing}; found {found}")
    return data


def check_finite(image: np.ndarray, path: str | Path) -> None:
    """Raise a DataError naming ``path`` if ``image`` holds NaN or infinite values.

    Example:
        >>> check_finite(np.array([0.0, np.nan]), "scan.nii.gz")
        Traceback (most recent call last):
        ...
        oodcalib.errors.DataError: scan.nii.gz: image contains 1 NaN or infinite values
    """
    bad = ~np.isfinite(image)
    if bad.any():
        raise DataError(path, f"image contains {int(bad.sum())} NaN or infinite values")


def check_label_grid(
    image: nib.Nifti1Image, label: nib.Nifti1Image, image_path: Path, label_path: Path
) -> None:
    """Check that a label map is stored on its image's voxel grid.

    The arrays are used as stored and the label takes the image's geometry: when only
    the headers disagree (a different affine or orientation), a warning names the label
    file; a different array shape cannot be repaired and is an error.

    Raises:
        DataError: If the array shapes differ.
    """
    image_shape, label_shape = image.shape[:3], label.shape[:3]
    if image_shape != label_shape:
        raise DataError(
            label_path,
            f"label shape {label_shape} differs from image shape {image_shape} of {image_path}",
        )
    if not np.allclose(image.affine, label.affine, atol=1e-3):
        warnings.warn(
            f"{label_path}: label header geometry (orientation "
            f"{''.join(nib.aff2axcodes(label.affine))}) differs from that of image "
            f"{image_path.name} ({''.join(nib.aff2axcodes(image.affine))}); the voxel arrays "
            "have the same shape, so the label is used as stored with the image's geometry",
            UserWarning,
            stacklevel=3,
        )


def _frames(path: str | Path) -> int:
    """Frames of a 4D NIfTI file (1 for 3D or unreadable files; reading reports those)."""
    try:
        shape = _load_nifti(path).shape
    except READ_ERRORS:
        return 1
    return shape[3] if len(shape) == 4 else 1


def read_image_and_label(
    image_path: Path,
    label_path: Path | None = None,
    frame: int | None = None,
    origin: str = "data.frame",
) -> tuple[np.ndarray, np.ndarray | None, nib.Nifti1Image]:
    """Read a NIfTI image and its raw label map, the checks every loader needs done.

    The label must be stored on the image's voxel grid (:func:`check_label_grid`) and the
    image must be finite (:func:`check_finite`). Label codes are returned raw; the
    loader remaps them (:func:`~oodcalib.datasets.validation.remap_labels`).

    Args:
        image_path: The image file.
        label_path: Its label file, or None for an unlabelled scan.
        frame: The frame of a 4D image (and of its label, when that is 4D too).
        origin: Where ``frame`` came from (``data.frame``, or a sidecar), for messages.

    Returns:
        ``(image, raw_label or None, image_nii)``, arrays as stored.

    Raises:
        DataError: Naming the file that is missing, unreadable, not 3D or inconsistent.
    """
    image, image_nii = read_nifti(image_path, frame=frame, origin=origin)
    raw_label = None
    if label_path is not None:
        raw_label, label_nii = read_nifti(
            label_path,
            label=True,
            frame=frame if _frames(label_path) > 1 else None,
            origin=origin,
        )
        check_label_grid(image_nii, label_nii, Path(image_path), Path(label_path))
    check_finite(image, image_path)
    return image, raw_label, image_nii
