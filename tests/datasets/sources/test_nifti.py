from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from oodcalib.datasets.sources.nifti import load_nifti, match_pattern
from oodcalib.errors import DataError

SHAPE = (6, 5, 3)  # (H, W, Z) as stored
ZOOMS = (1.2, 1.4, 6.0)


def _label(lv=3, myo=2, rv=1, shape=SHAPE) -> np.ndarray:
    lab = np.zeros(shape, np.int16)
    lab[1, 1:3], lab[2, 1:3], lab[3, 1:3] = rv, myo, lv
    return lab


def _save(path: Path, array: np.ndarray, zooms=ZOOMS) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(array, np.diag([*zooms, 1.0])), str(path))


def _image(offset: float = 0.0, shape=SHAPE) -> np.ndarray:
    return np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + offset


def _make_set(tmp_path: Path, ids=("p2", "p10"), label_fn=_label) -> tuple[str, str]:
    for i, case_id in enumerate(ids):
        _save(tmp_path / "imgs" / f"{case_id}_img.nii.gz", _image(100 * i))
        _save(tmp_path / "labs" / f"{case_id}_lab.nii.gz", label_fn())
    return str(tmp_path / "imgs" / "*_img.nii.gz"), str(tmp_path / "labs" / "*_lab.nii.gz")


def test_pairing_label_map_and_slice_axis(tmp_path):
    images, labels = _make_set(tmp_path, label_fn=lambda: _label(lv=1, rv=3))
    cases = load_nifti(
        images, labels, label_map={1: 3, 2: 2, 3: 1}, domain="mine", orientation="stored"
    )
    assert [c.case_id for c in cases] == ["p10", "p2"]
    p10 = cases[0]
    np.testing.assert_array_equal(p10.image, np.moveaxis(_image(100), 2, 0))
    np.testing.assert_array_equal(p10.label, np.moveaxis(_label(), 2, 0))  # RV=1, LV=3
    assert p10.spacing == pytest.approx((1.2, 1.4)) and p10.domain == "mine"
    assert "p10_img.nii.gz" in p10.source and "p10_lab.nii.gz" in p10.source
    first = load_nifti(
        images, labels, label_map={1: 3, 2: 2, 3: 1}, slice_axis=0, orientation="stored"
    )[1]
    assert first.image.shape == (6, 5, 3) and first.spacing == pytest.approx((1.4, 6.0))
    last = load_nifti(
        images, labels, label_map={1: 3, 2: 2, 3: 1}, slice_axis=-2, orientation="stored"
    )[1]
    np.testing.assert_array_equal(last.image, np.moveaxis(_image(0), 1, 0))
    assert last.spacing == pytest.approx((1.2, 6.0))


def test_without_labels(tmp_path):
    images, _ = _make_set(tmp_path)
    cases = load_nifti(images)
    assert [c.label for c in cases] == [None, None]
    assert cases[1].image.shape == (3, 6, 5)


def test_identity_map_rejects_other_codes(tmp_path):
    images, labels = _make_set(tmp_path, label_fn=lambda: _label(lv=4))
    with pytest.raises(DataError, match=r"p10_lab\.nii\.gz: unknown label values \[4\]"):
        load_nifti(images, labels)
    assert load_nifti(images, labels, label_map={1: 1, 2: 2, 4: 3})[0].label.max() == 3


def test_match_pattern_ids(tmp_path):
    for rel in ("a/s1/x_t1.nii.gz", "a/s2/y_t1.nii.gz", "a/s2/deep/z_t1.nii.gz"):
        _save(tmp_path / rel, _image())
    found = match_pattern(str(tmp_path / "a" / "*" / "*_t1.nii.gz"))
    assert sorted(found) == ["s1_x", "s2_y"]
    assert found["s1_x"] == tmp_path / "a/s1/x_t1.nii.gz"
    deep = match_pattern(str(tmp_path / "a" / "**" / "z_t?.nii.gz"))
    assert list(deep) == ["s2_deep_1"]
    single = match_pattern(str(tmp_path / "a/s1/x_t1.nii.gz"))
    assert list(single) == ["x_t1"]


def test_unmatched_files(tmp_path):
    images, labels = _make_set(tmp_path)
    _save(tmp_path / "imgs" / "p7_img.nii.gz", _image())
    with pytest.raises(DataError, match=r"p7_img\.nii\.gz: 1 file\(s\) with no matching label"):
        load_nifti(images, labels)
    (tmp_path / "imgs" / "p7_img.nii.gz").unlink()
    _save(tmp_path / "labs" / "p8_lab.nii.gz", _label())
    with pytest.raises(DataError, match=r"p8_lab\.nii\.gz: 1 file\(s\) with no matching image"):
        load_nifti(images, labels)


def test_no_match_and_bad_arguments(tmp_path):
    with pytest.raises(DataError, match=r"nowhere/\*\.nii\.gz: no file matches"):
        load_nifti(str(tmp_path / "nowhere" / "*.nii.gz"))
    images, labels = _make_set(tmp_path)
    with pytest.raises(ValueError, match="slice_axis"):
        load_nifti(images, labels, slice_axis=3)
    with pytest.raises(ValueError, match="label_map targets"):
        load_nifti(images, labels, label_map={1: 5})


def test_bad_files(tmp_path):
    images, labels = _make_set(tmp_path)
    nan_image = _image()
    nan_image[0, 0, 0] = np.nan
    _save(tmp_path / "imgs" / "p2_img.nii.gz", nan_image)
    with pytest.raises(DataError, match=r"p2_img\.nii\.gz: image contains 1 NaN"):
        load_nifti(images, labels)
    _save(tmp_path / "imgs" / "p2_img.nii.gz", _image(shape=(6, 5, 4)))
    with pytest.raises(DataError, match=r"p2_lab\.nii\.gz: label shape .*/p2_img\.nii\.gz"):
        load_nifti(images, labels)
    _save(tmp_path / "imgs" / "p2_img.nii.gz", _image())
    _save(tmp_path / "labs" / "p2_lab.nii.gz", np.zeros(SHAPE, np.int16))
    with pytest.raises(DataError, match=r"p2_img\.nii\.gz.*no foreground"):
        load_nifti(images, labels)
    (tmp_path / "labs" / "p2_lab.nii.gz").write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(DataError, match=r"p2_lab\.nii\.gz: cannot read"):
        load_nifti(images, labels)


def test_label_header_mismatch_warns(tmp_path):
    images, labels = _make_set(tmp_path)
    _save(tmp_path / "labs" / "p2_lab.nii.gz", _label(), zooms=(1.0, 1.0, 1.0))
    with pytest.warns(UserWarning, match=r"p2_lab\.nii\.gz: label header geometry"):
        cases = load_nifti(images, labels)
    assert cases[1].spacing == pytest.approx((1.2, 1.4))  # the image's geometry


def _four_d(root: Path, frames: int = 3) -> tuple[str, str]:
    image = np.stack([_image(1000 * t) for t in range(frames)], axis=-1)
    label = np.stack([np.roll(_label(), t % 2, axis=0) for t in range(frames)], axis=-1)
    _save(root / "p1_img.nii.gz", image)
    _save(root / "p1_lab.nii.gz", label)
    return str(root / "*_img.nii.gz"), str(root / "*_lab.nii.gz")


def test_a_frame_of_a_4d_file_by_index_or_sidecar(tmp_path):
    import json

    images, labels = _four_d(tmp_path)
    with pytest.raises(DataError, match=r"4D file with 3 frames; choose one with --set data.frame"):
        load_nifti(images, labels)
    kwargs = {"orientation": "stored"}
    case = load_nifti(images, labels, frame=2, **kwargs)[0]
    np.testing.assert_array_equal(case.image, np.moveaxis(_image(2000), 2, 0))
    np.testing.assert_array_equal(case.label, np.moveaxis(_label(), 2, 0))  # label frame 2
    assert case.meta["frame"] == 2
    with pytest.raises(DataError, match=r"frame 5 out of range: the file has 3 frames"):
        load_nifti(images, labels, frame=5, **kwargs)
    with pytest.raises(DataError, match=r"data.frame=ES needs a sidecar"):
        load_nifti(images, labels, frame="ES", **kwargs)
    (tmp_path / "p1_img.json").write_text(json.dumps({"ED": 0, "ES": 1}))
    es = load_nifti(images, labels, frame="es", **kwargs)[0]
    np.testing.assert_array_equal(es.image, np.moveaxis(_image(1000), 2, 0))
    np.testing.assert_array_equal(es.label, np.moveaxis(np.roll(_label(), 1, axis=0), 2, 0))
    (tmp_path / "p1_img.json").unlink()
    (tmp_path / "Info.cfg").write_text("ED: 1\nES: 3\n")  # ACDC's, 1-based
    es = load_nifti(images, labels, frame="ES", **kwargs)[0]
    np.testing.assert_array_equal(es.image, np.moveaxis(_image(2000), 2, 0))
    # a 3D label beside a 4D image is used as it is
    _save(tmp_path / "p1_lab.nii.gz", _label())
    assert load_nifti(images, labels, frame=1, **kwargs)[0].label.sum() > 0


def test_symlink_loops_in_a_recursive_glob_load_each_file_once(tmp_path):
    ids = [f"p{i:02d}" for i in range(10)]
    _make_set(tmp_path, ids=ids)
    for folder in ("imgs", "labs"):
        (tmp_path / folder / "self").symlink_to(".")
        (tmp_path / folder / "back").symlink_to("..")
    cases = load_nifti(
        str(tmp_path / "imgs" / "**" / "*_img.nii.gz"),
        str(tmp_path / "labs" / "**" / "*_lab.nii.gz"),
        orientation="stored",
    )
    assert [c.case_id for c in cases] == ids  # not 410 cases, and no hang


def test_a_linked_file_is_loaded_once_by_its_real_path(tmp_path):
    images, labels = _make_set(tmp_path)
    (tmp_path / "imgs" / "p1_img.nii.gz").symlink_to(tmp_path / "imgs" / "p2_img.nii.gz")
    (tmp_path / "labs" / "p1_lab.nii.gz").symlink_to(tmp_path / "labs" / "p2_lab.nii.gz")
    with pytest.warns(UserWarning, match="each file being read once"):
        cases = load_nifti(images, labels, orientation="stored")
    assert [c.case_id for c in cases] == ["p10", "p2"]
