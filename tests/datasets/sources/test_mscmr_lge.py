from __future__ import annotations

import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from oodcalib.datasets.orientation import canonical_order
from oodcalib.datasets.sources.mscmr_lge import load_mscmr_lge
from oodcalib.errors import DataError

SHAPE = (12, 10, 4)  # stored (H, W, Z)
ZOOMS = (0.7, 0.8, 5.0)


def _affine(d0, d1, d2) -> np.ndarray:
    """Oblique affine with (nearly) the given voxel-axis directions and ZOOMS."""
    q, r = np.linalg.qr(np.column_stack([d0, d1, d2]))
    affine = np.eye(4)
    affine[:3, :3] = q * np.sign(np.diag(r)) * ZOOMS
    affine[:3, 3] = (40.0, -60.0, 20.0)
    return affine


# Direction cosines of two real subjects: the same storage that nib.aff2axcodes calls
# ('L', 'S', 'P') for one and ('P', 'S', 'R') for the other.
AFF_LSP = _affine((-0.72, -0.68, 0.13), (-0.34, 0.51, 0.79), (0.6, -0.53, 0.6))
AFF_PSR = _affine((-0.5, -0.86, -0.05), (-0.39, 0.17, 0.91), (0.77, -0.47, 0.42))


def _label() -> np.ndarray:
    lab = np.zeros(SHAPE, np.int16)
    lab[2:4, 3:6] = 1
    lab[5:8, 3:6] = 2
    lab[6, 4] = 3
    return lab


def _write(root: Path, subject: str, image=None, label=None, affine=AFF_LSP, label_affine=None):
    for sub in ("images", "labels"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    image = np.arange(np.prod(SHAPE), dtype=np.int16).reshape(SHAPE) if image is None else image
    label = _label() if label is None else label
    nib.save(nib.Nifti1Image(image, affine), str(root / "images" / f"{subject}_DE.nii.gz"))
    label_img = nib.Nifti1Image(label, affine if label_affine is None else label_affine)
    nib.save(label_img, str(root / "labels" / f"{subject}_DE_manual.nii.gz"))


def _load_quietly(root: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return load_mscmr_lge(root)


def test_both_orientation_groups_get_the_same_exact_array_operation(tmp_path):
    assert nib.aff2axcodes(AFF_LSP) != nib.aff2axcodes(AFF_PSR)
    _write(tmp_path, "subject10", affine=AFF_LSP)
    _write(tmp_path, "subject2", affine=AFF_PSR)
    cases = _load_quietly(tmp_path)
    assert [c.case_id for c in cases] == ["subject10", "subject2"]
    stored = np.arange(np.prod(SHAPE)).reshape(SHAPE)
    # rotate each slice 90 degrees counter-clockwise, slices first, base (last) first
    expected = np.flip(np.rot90(stored, 1, axes=(0, 1)).transpose(2, 0, 1), axis=0)
    expected_label = np.flip(np.rot90(_label(), 1, axes=(0, 1)).transpose(2, 0, 1), axis=0)
    for case in cases:
        np.testing.assert_array_equal(case.image, expected)
        np.testing.assert_array_equal(case.label, expected_label)
        assert case.image.dtype == np.float32 and case.label.dtype == np.uint8
        assert case.spacing == pytest.approx((0.8, 0.7))  # (row, col) of the final array
        assert case.domain == "lge" and case.meta["label_codes"] == "package"
        assert case.meta["orientation"] in ("LSP", "PSR")


@pytest.mark.parametrize("affine", [AFF_LSP, AFF_PSR], ids=["LSP", "PSR"])
@pytest.mark.parametrize(
    ("direction", "axis"),
    [((0, 0, -1), 1), ((-1, -1, 0), 2), ((-1, 1, -1), 0)],
    ids=["rows-to-feet", "cols-RV-to-LV", "slices-to-apex"],
)
def test_anatomical_directions_of_the_loaded_axes(tmp_path, affine, direction, axis):
    ijk = np.stack(np.meshgrid(*map(np.arange, SHAPE), indexing="ij"), -1)
    world = ijk @ affine[:3, :3].T + affine[:3, 3]
    image = (world @ np.asarray(direction, float)).astype(np.float32)
    _write(tmp_path, "subject1", image=image, affine=affine)
    loaded = _load_quietly(tmp_path)[0].image
    profile = loaded.mean(axis=tuple(a for a in range(3) if a != axis))
    assert np.all(np.diff(profile) > 0)


def test_canonical_order_ignores_the_aff2axcodes_tie():
    assert canonical_order(AFF_LSP) == canonical_order(AFF_PSR) == ((2, 1, 0), (True, True, False))


def test_official_codes_are_remapped(tmp_path):
    official = np.select([_label() == 1, _label() == 2, _label() == 3], [600, 200, 500], 0)
    _write(tmp_path, "subject1", label=_label())
    _write(tmp_path, "subject2", label=official.astype(np.int16))
    package, remapped = _load_quietly(tmp_path)
    np.testing.assert_array_equal(remapped.label, package.label)
    assert set(np.unique(remapped.label).tolist()) == {0, 1, 2, 3}
    assert remapped.meta["label_codes"] == "official"


def test_label_header_quirk_warns_and_uses_the_image_geometry(tmp_path):
    _write(tmp_path / "ok", "subject43")
    _write(tmp_path / "quirk", "subject43", label_affine=np.diag([0.7, 0.8, 5.0, 1.0]))
    with pytest.warns(UserWarning, match=r"subject43_DE_manual\.nii\.gz.*RAS.*image's geometry"):
        quirk = load_mscmr_lge(tmp_path / "quirk")[0]
    np.testing.assert_array_equal(quirk.label, _load_quietly(tmp_path / "ok")[0].label)


def test_label_shape_mismatch(tmp_path):
    _write(tmp_path, "subject43", label=_label()[:, :, :3], label_affine=np.eye(4))
    with pytest.raises(DataError, match=r"subject43_DE_manual\.nii\.gz: label shape"):
        load_mscmr_lge(tmp_path)


def test_missing_or_empty_directories(tmp_path):
    with pytest.raises(DataError, match="nothing.*directory not found"):
        load_mscmr_lge(tmp_path / "nothing")
    (tmp_path / "images").mkdir()
    with pytest.raises(DataError, match="labels.*directory not found"):
        load_mscmr_lge(tmp_path)
    (tmp_path / "labels").mkdir()
    with pytest.raises(DataError, match="images: no subjectN_DE"):
        load_mscmr_lge(tmp_path)


def test_missing_label_file(tmp_path):
    _write(tmp_path, "subject7")
    (tmp_path / "labels" / "subject7_DE_manual.nii.gz").unlink()
    with pytest.raises(DataError, match=r"subject7_DE_manual\.nii\.gz.*subject7_DE\.nii\.gz"):
        load_mscmr_lge(tmp_path)


@pytest.mark.parametrize(
    ("codes", "problem"),
    [
        ((0, 1, 2, 3, 7), r"unknown label values \[7\]"),
        ((0, 200, 500, 600, 7), r"\[7\]"),
        ((0, 1, 2, 3, 600), "mix the codes"),
    ],
)
def test_unknown_or_mixed_label_values(tmp_path, codes, problem):
    label = np.zeros(SHAPE, np.int16)
    label[:, : len(codes)] = np.asarray(codes)[None, :, None]
    _write(tmp_path, "subject3", label=label)
    with pytest.raises(DataError, match=rf"subject3_DE_manual\.nii\.gz: .*{problem}"):
        load_mscmr_lge(tmp_path)


def test_nan_image_and_empty_label(tmp_path):
    image = np.zeros(SHAPE, np.float32)
    image[1, 1, 1] = np.nan
    _write(tmp_path, "subject3", image=image)
    with pytest.raises(DataError, match=r"subject3_DE\.nii\.gz: image contains 1 NaN"):
        load_mscmr_lge(tmp_path)
    _write(tmp_path, "subject3", label=np.zeros(SHAPE, np.int16))
    with pytest.raises(DataError, match=r"subject3_DE\.nii\.gz.*no foreground"):
        load_mscmr_lge(tmp_path)


@pytest.fixture(scope="module")
def real_lge(shared_data):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cases = load_mscmr_lge(shared_data / "MSCMR_LGE")
    return cases, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


@pytest.mark.data
def test_real_lge(real_lge):
    cases, messages = real_lge
    assert len(cases) == 20
    assert [c.case_id for c in cases] == sorted(c.case_id for c in cases)
    assert len(messages) == 1 and "subject43_DE_manual.nii.gz" in messages[0]
    base_first = 0
    for c in cases:
        assert set(np.unique(c.label).tolist()) == {0, 1, 2, 3}
        assert 0.72 <= c.spacing[0] <= 0.77 and c.spacing[0] == pytest.approx(c.spacing[1])
        assert 10 <= c.num_slices <= 18 and c.image.shape[1] >= 400
        assert c.image.dtype == np.float32 and c.image.max() > 100  # raw, not normalised
        # ACDC convention: RV left of LV, base slices first
        rv, lv = (np.argwhere(c.label == k)[:, 2].mean() for k in (1, 3))
        assert rv < lv, c.case_id
        half = c.num_slices // 2
        base_first += (c.label[:half] > 0).sum() > (c.label[half:] > 0).sum()
    assert base_first >= 18


def test_a_linked_image_is_loaded_once(tmp_path):
    _write(tmp_path, "subject1")
    (tmp_path / "images" / "subject2_DE.nii.gz").symlink_to(
        tmp_path / "images" / "subject1_DE.nii.gz"
    )
    with pytest.warns(UserWarning, match="each file being read once"):
        cases = load_mscmr_lge(tmp_path)
    assert [c.case_id for c in cases] == ["subject1"]
