"""Saved probability maps in nnU-Net v2's layout and as NIfTI per class, geometry restored."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from oodcalib.datasets import load_nifti
from oodcalib.errors import DataError
from oodcalib.segmentation.networks.probability_maps import find_map, read_map
from tests.segmentation.networks.nnunet_files import one_hot, write_nnunet


def _probabilities(shape, seed=0):
    logits = np.random.default_rng(seed).normal(size=(4, *shape))
    e = np.exp(logits)
    return (e / e.sum(0)).astype(np.float32)


def test_nnunet_map_of_a_stored_scan_comes_back_in_stack_order(tmp_path):
    """A scan kept as stored ``(H, W, Z)`` (the package's NIfTI export): ``(Z, H, W)``."""
    package = _probabilities((5, 12, 9))  # (Z, H, W), H != W to catch a transposition
    stored = package.transpose(0, 2, 3, 1)  # NIfTI (H, W, Z)
    affine = np.diag([1.2, 1.7, 8.0, 1.0])
    path = write_nnunet(tmp_path / "scan", stored, affine)
    found = read_map(find_map(tmp_path, "scan"), oriented=False)
    assert found.probabilities.shape == (4, 5, 12, 9)
    assert found.spacing == pytest.approx((1.2, 1.7))
    assert np.allclose(found.probabilities, package, atol=1e-3)  # float16 on disk
    assert found.path == str(path)


@pytest.mark.parametrize("cropped", [False, True])
def test_the_bounding_box_is_restored_with_background_outside(tmp_path, cropped):
    package = _probabilities((4, 10, 8))
    stored = package.transpose(0, 2, 3, 1)
    box = [[1, 3], [2, 7], [1, 9]]  # SimpleITK order (Z, W, H)
    write_nnunet(tmp_path / "scan", stored, np.diag([1.5, 1.5, 8.0, 1.0]), box, cropped)
    found = read_map(tmp_path / "scan.npz", oriented=False).probabilities
    inside = np.zeros((4, 10, 8), bool)  # package order (Z, H, W)
    inside[1:3, 1:9, 2:7] = True
    assert np.allclose(found[:, inside], package[:, inside], atol=1e-3)
    assert (found[0][~inside] == 1).all() and (found[1:, ~inside] == 0).all()


def test_nnunet_map_of_an_oblique_nifti_scan_aligns_with_its_labels(tmp_path):
    """The scan is reoriented from its affine; so is its map, from the ``.pkl``."""
    rng = np.random.default_rng(1)
    label = rng.integers(0, 4, size=(14, 11, 6)).astype(np.uint8)  # stored (X, Y, Z)
    rotation = np.array([[0.0, -0.7071, 0.7071], [0.0, 0.7071, 0.7071], [-1.0, 0.0, 0.0]])
    affine = np.eye(4)
    affine[:3, :3] = rotation @ np.diag([1.4, 1.6, 9.0])
    affine[:3, 3] = [10.0, -20.0, 5.0]
    nib.save(
        nib.Nifti1Image(rng.normal(size=label.shape).astype(np.float32), affine),
        tmp_path / "p1_img.nii.gz",
    )
    nib.save(nib.Nifti1Image(label, affine), tmp_path / "p1_lab.nii.gz")
    (case,) = load_nifti(str(tmp_path / "*_img.nii.gz"), str(tmp_path / "*_lab.nii.gz"))
    maps = tmp_path / "maps"
    maps.mkdir()
    write_nnunet(maps / case.case_id, one_hot(label), affine)
    found = read_map(find_map(maps, case.case_id), oriented=case.meta["reoriented"])
    assert found.probabilities.shape[1:] == case.label.shape
    assert np.array_equal(found.probabilities.argmax(0), case.label)
    assert found.spacing == pytest.approx(case.spacing)


def test_nifti_per_class_maps_are_stacked(tmp_path):
    package = _probabilities((3, 6, 7))
    for k, p in enumerate(package):
        image = nib.Nifti1Image(p.transpose(1, 2, 0), np.diag([1.5, 1.3, 10.0, 1.0]))
        nib.save(image, tmp_path / f"scan_class{k}.nii.gz")
    found = read_map(find_map(tmp_path, "scan"), oriented=False)
    assert np.allclose(found.probabilities, package, atol=1e-6)
    assert found.spacing == pytest.approx((1.5, 1.3))


def test_maps_that_are_not_probabilities_name_the_file(tmp_path):
    stored = _probabilities((2, 6, 6)).transpose(0, 2, 3, 1) * 0.5  # sums to 0.5
    write_nnunet(tmp_path / "half", stored, np.diag([1.5, 1.5, 8.0, 1.0]))
    with pytest.raises(DataError, match=r"half\.npz: probabilities do not sum to 1"):
        read_map(tmp_path / "half.npz", oriented=False)
    write_nnunet(tmp_path / "logits", stored - 1, np.diag([1.5, 1.5, 8.0, 1.0]))
    with pytest.raises(DataError, match=r"logits\.npz: probabilities must be finite and >= 0"):
        read_map(tmp_path / "logits.npz", oriented=False)
    (tmp_path / "half.pkl").unlink()
    with pytest.raises(DataError, match=r"half\.pkl: missing"):
        read_map(tmp_path / "half.npz", oriented=False)


def test_a_map_that_fits_neither_the_scan_nor_its_box_is_a_geometry_mismatch(tmp_path):
    stored = _probabilities((2, 6, 6)).transpose(0, 2, 3, 1)
    write_nnunet(tmp_path / "scan", stored, np.diag([1.5, 1.5, 8.0, 1.0]), [[0, 2], [1, 5], [0, 6]])
    with np.load(tmp_path / "scan.npz") as data:
        wrong = data["probabilities"][:, :, :5]
    np.savez_compressed(tmp_path / "scan.npz", probabilities=wrong)
    with pytest.raises(DataError, match="geometry mismatch"):
        read_map(tmp_path / "scan.npz", oriented=False)
