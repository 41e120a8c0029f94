from __future__ import annotations

import re
from pathlib import Path

import h5py
import nibabel as nib
import numpy as np
import pytest

from oodcalib.datasets.sources.acdc import load_acdc, parse_info_cfg
from oodcalib.errors import DataError


def _label(shape: tuple[int, ...], axis_z: int = 0) -> np.ndarray:
    """A small RV/MYO/LV pattern on every slice; ``axis_z`` is the slice axis."""
    lab = np.zeros(shape, np.uint8)
    idx = [slice(None)] * 3
    for cls, (a, b) in zip((1, 2, 3), ((0, 1), (1, 2), (2, 3)), strict=True):
        idx_c = list(idx)
        idx_c[(axis_z + 1) % 3] = slice(a, b)
        idx_c[(axis_z + 2) % 3] = slice(1, 3)
        lab[tuple(idx_c)] = cls
    return lab


def _write_h5(folder: Path, patient: str, frame: int, image=None, label=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{patient}_frame{frame:02d}.h5"
    image = np.full((3, 5, 4), frame, np.float32) if image is None else image
    label = _label((3, 5, 4)) if label is None else label
    with h5py.File(path, "w") as f:
        f["image"], f["label"] = image, label
    return path


def _write_nifti(path: Path, array: np.ndarray, zooms=(1.5, 2.0, 8.0)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(array, np.diag([*zooms, 1.0])), str(path))
    return path


def _write_patient(base: Path, patient: str, ed: int = 1, es: int = 9, cfg: str | None = None):
    folder = base / patient
    folder.mkdir(parents=True)
    text = f"ED: {ed}\nES: {es}\nGroup: DCM\nNbFrame: 30\n" if cfg is None else cfg
    (folder / "Info.cfg").write_text(text)
    for frame in (ed, es):
        image = np.arange(60, dtype=np.int16).reshape(5, 4, 3) * frame  # (X, Y, Z)
        _write_nifti(folder / f"{patient}_frame{frame:02d}.nii.gz", image)
        _write_nifti(folder / f"{patient}_frame{frame:02d}_gt.nii.gz", _label((5, 4, 3), 2))
    return folder


@pytest.mark.parametrize("sub", ["", "ACDC_training_volumes"])
def test_hdf5_phase_selection(tmp_path, sub):
    for patient, frames in (("patient002", (1, 12)), ("patient001", (3, 15))):
        for frame in frames:
            _write_h5(tmp_path / sub, patient, frame)
    es = load_acdc(tmp_path)
    ed = load_acdc(tmp_path, phase="ed")
    assert [c.case_id for c in es] == ["patient001", "patient002"]
    assert [c.meta["frame"] for c in es] == [15, 12]
    assert [c.meta["frame"] for c in ed] == [3, 1]
    assert all(c.meta["phase"] == "ES" for c in es)
    assert np.all(es[0].image == 15) and np.all(ed[1].image == 1)
    assert es[0].spacing is None and es[0].domain == "clean"
    assert es[0].image.dtype == np.float32 and es[0].label.dtype == np.uint8
    assert es[0].source.endswith("patient001_frame15.h5")


def test_nifti_layout_transpose_spacing_and_info_cfg(tmp_path):
    _write_patient(tmp_path / "training", "patient003", ed=1, es=9)
    _write_patient(tmp_path / "testing", "patient101", ed=4, es=2)
    cases = load_acdc(tmp_path, domain="cine")
    assert [c.case_id for c in cases] == ["patient003", "patient101"]
    assert [c.meta["frame"] for c in cases] == [9, 2]  # ES from Info.cfg, not frame order
    stored = np.arange(60).reshape(5, 4, 3) * 9
    np.testing.assert_array_equal(cases[0].image, stored.transpose(2, 1, 0))
    np.testing.assert_array_equal(cases[0].label, _label((5, 4, 3), 2).transpose(2, 1, 0))
    assert cases[0].image.shape == (3, 4, 5)
    assert cases[0].spacing == (2.0, 1.5)  # (row = Y, col = X)
    assert cases[0].meta == {"phase": "ES", "frame": 9, "group": "DCM", "slice_spacing": 8.0}
    assert cases[0].voxel_spacing == (8.0, 2.0, 1.5)
    assert cases[0].domain == "cine"
    assert load_acdc(tmp_path / "training", phase="ED")[0].meta["frame"] == 1


def test_bad_phase():
    with pytest.raises(ValueError, match="ED, ES"):
        load_acdc("anywhere", phase="mid")


def test_missing_and_empty_directory(tmp_path):
    with pytest.raises(DataError, match="nope.*expected ACDC"):
        load_acdc(tmp_path / "nope")
    with pytest.raises(DataError, match=f"{re.escape(str(tmp_path))}.*no ACDC data found"):
        load_acdc(tmp_path)


def test_info_cfg_errors(tmp_path):
    _write_patient(tmp_path, "patient001", cfg="ED: 1\nGroup: NOR\n")
    with pytest.raises(DataError, match=r"Info\.cfg.*'ES:'"):
        load_acdc(tmp_path)
    assert load_acdc(tmp_path, phase="ED")[0].meta["frame"] == 1
    with pytest.raises(DataError, match="Info.cfg: malformed line"):
        parse_info_cfg("ED 1", "Info.cfg")


@pytest.mark.parametrize("suffix", ["", "_gt"])
def test_missing_frame_file(tmp_path, suffix):
    folder = _write_patient(tmp_path, "patient001")
    (folder / f"patient001_frame09{suffix}.nii.gz").unlink()
    with pytest.raises(DataError, match=f"patient001_frame09{suffix}.nii.gz"):
        load_acdc(tmp_path)


def test_nifti_shape_mismatch_and_corrupt_file(tmp_path):
    folder = _write_patient(tmp_path, "patient001")
    _write_nifti(folder / "patient001_frame09_gt.nii.gz", _label((5, 4, 2), 2))
    with pytest.raises(DataError, match="patient001_frame09_gt.nii.gz.*shape"):
        load_acdc(tmp_path)
    (folder / "patient001_frame09_gt.nii.gz").write_bytes(b"not a nifti file")
    with pytest.raises(DataError, match="patient001_frame09_gt.nii.gz: cannot read"):
        load_acdc(tmp_path)


def test_hdf5_bad_contents(tmp_path):
    _write_h5(tmp_path, "patient001", 1)
    with pytest.raises(DataError, match="patient001.*exactly two frames"):
        load_acdc(tmp_path)
    label = _label((3, 5, 4))
    label[0, 0, 0] = 7
    _write_h5(tmp_path, "patient001", 9, label=label)
    with pytest.raises(DataError, match=r"patient001_frame09\.h5: unknown label values \[7\]"):
        load_acdc(tmp_path)
    image = np.zeros((3, 5, 4), np.float32)
    image[1, 2, 2] = np.nan
    _write_h5(tmp_path, "patient001", 9, image=image)
    with pytest.raises(DataError, match=r"patient001_frame09\.h5: image contains 1 NaN"):
        load_acdc(tmp_path)
    _write_h5(tmp_path, "patient001", 9, label=np.zeros((3, 5, 4), np.uint8))
    with pytest.raises(DataError, match=r"patient001_frame09\.h5.*no foreground"):
        load_acdc(tmp_path)
    _write_h5(tmp_path, "patient001", 9, label=_label((3, 5, 5)))
    with pytest.raises(DataError, match=r"patient001_frame09\.h5.*differ"):
        load_acdc(tmp_path)
    with h5py.File(tmp_path / "patient001_frame09.h5", "w") as f:
        f["image"] = np.zeros((3, 5, 4), np.float32)
    with pytest.raises(DataError, match=r"patient001_frame09\.h5: missing HDF5 dataset.*label"):
        load_acdc(tmp_path)


@pytest.fixture(scope="module")
def real_acdc(shared_data):
    root = shared_data / "ACDC"
    return load_acdc(root, phase="ES"), load_acdc(root, phase="ED")


@pytest.mark.data
def test_real_acdc(real_acdc):
    es, ed = real_acdc
    assert len(es) == len(ed) == 100
    assert [c.case_id for c in es] == [f"patient{i:03d}" for i in range(1, 101)]
    base_first = 0
    for c, d in zip(es, ed, strict=True):
        assert c.image.ndim == 3 and 6 <= c.num_slices <= 18 and c.image.shape[1] >= 150
        assert c.label.shape == c.image.shape and c.image.dtype == np.float32
        assert set(np.unique(c.label).tolist()) == {0, 1, 2, 3}
        assert c.meta["frame"] > d.meta["frame"]
        # the convention the LGE loader reproduces: RV left of LV, base slices first
        rv, lv = (np.argwhere(c.label == k)[:, 2].mean() for k in (1, 3))
        assert rv < lv, c.case_id
        half = c.num_slices // 2
        base_first += (c.label[:half] > 0).sum() > (c.label[half:] > 0).sum()
    assert base_first >= 90


def test_a_patient_folder_reached_twice_is_loaded_once(tmp_path):
    _write_patient(tmp_path / "training", "patient003")
    (tmp_path / "testing").symlink_to(tmp_path / "training")  # the same patients again
    with pytest.warns(UserWarning, match="each file being read once"):
        cases = load_acdc(tmp_path)
    assert [c.case_id for c in cases] == ["patient003"]
