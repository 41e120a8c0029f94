"""One canonical orientation: the same heart stored five ways loads to the same arrays."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from nibabel.orientations import (
    apply_orientation,
    axcodes2ornt,
    inv_ornt_aff,
    io_orientation,
    ornt_transform,
)

from oodcalib.datasets.orientation import canonical_order, slice_axis, to_canonical
from oodcalib.datasets.sources.nifti import load_nifti

SHAPE = (4, 8, 10)  # canonical (Z, H, W)
ZOOMS = (8.0, 1.25, 1.5)


def _unit(v) -> np.ndarray:
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)


def _canonical_affine() -> np.ndarray:
    """An oblique short-axis geometry of the canonical arrays, slightly tilted like a scan.

    Rows run to the feet, columns from the RV to the LV (left, posterior), slices from
    the base to the apex.
    """
    rows, cols = _unit((0.1, -0.05, -1.0)), _unit((-1.0, -0.9, 0.1))
    cols = _unit(cols - (cols @ rows) * rows)
    slices = np.cross(rows, cols)
    if slices @ _unit((-1, 1, -1)) < 0:
        slices = -slices
    affine = np.eye(4)
    affine[:3, :3] = np.column_stack([slices, rows, cols]) * ZOOMS
    affine[:3, 3] = (30.0, -20.0, 10.0)
    return affine


def _canonical_arrays() -> tuple[np.ndarray, np.ndarray]:
    image = np.arange(np.prod(SHAPE), dtype=np.float32).reshape(SHAPE)
    label = np.zeros(SHAPE, np.int16)
    label[:, 3:6, 1:4] = 1  # RV on the left
    label[:, 2:7, 5:9] = 2  # MYO ring around the LV, on the right
    label[:, 3:6, 6:8] = 3
    return image, label


def _store(array: np.ndarray, code: str) -> tuple[np.ndarray, np.ndarray]:
    """The same voxels stored with axis codes ``code``: (array, affine)."""
    affine = _canonical_affine()
    transform = ornt_transform(io_orientation(affine), axcodes2ornt(tuple(code)))
    return (apply_orientation(array, transform), affine @ inv_ornt_aff(transform, array.shape))


CODES = ["RAS", "LPS", "PIR", "PSR", "LSP"]


@pytest.mark.parametrize("code", CODES)
def test_every_storage_loads_to_the_canonical_arrays(tmp_path, code):
    image, label = _canonical_arrays()
    stored_image, affine = _store(image, code)
    stored_label, _ = _store(label, code)
    assert "".join(nib.aff2axcodes(affine)) == code
    nib.save(nib.Nifti1Image(stored_image, affine), str(tmp_path / "p1_img.nii.gz"))
    nib.save(nib.Nifti1Image(stored_label, affine), str(tmp_path / "p1_lab.nii.gz"))
    case = load_nifti(str(tmp_path / "*_img.nii.gz"), str(tmp_path / "*_lab.nii.gz"))[0]
    np.testing.assert_array_equal(case.image, image)
    np.testing.assert_array_equal(case.label, label)
    assert case.spacing == pytest.approx(ZOOMS[1:])
    assert case.meta["orientation"] == code


def test_stored_orientation_is_the_escape_hatch_for_broken_affines(tmp_path):
    image, label = _canonical_arrays()
    stored, affine = _store(image, "PSR")
    nib.save(nib.Nifti1Image(stored, affine), str(tmp_path / "p1_img.nii.gz"))
    case = load_nifti(str(tmp_path / "*_img.nii.gz"), orientation="stored", slice_axis=2)[0]
    np.testing.assert_array_equal(case.image, np.moveaxis(stored, 2, 0))
    with pytest.raises(ValueError, match="orientation must be one of affine, stored"):
        load_nifti(str(tmp_path / "*_img.nii.gz"), orientation="canonical")


def test_the_slice_axis_is_the_thick_one_or_the_one_closest_to_the_apex():
    assert slice_axis(np.diag([1.2, 8.0, 1.2, 1.0])) == 1
    # isotropic voxels: the axis pointing from base to apex (left, anterior, inferior)
    iso = np.eye(4)
    iso[:3, :3] = np.column_stack([(0, 0, -1), _unit((-1, 1, -1)), _unit((1, 1, 0))])
    assert slice_axis(iso) == 1


@pytest.mark.parametrize("code", CODES)
def test_to_canonical_inverts_every_storage(code):
    image, _ = _canonical_arrays()
    stored, affine = _store(image, code)
    axes, flips = canonical_order(affine)
    np.testing.assert_array_equal(to_canonical(stored, axes, flips), image)
