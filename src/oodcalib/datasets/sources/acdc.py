"""ACDC 2017 bSSFP cine short-axis scans, one frame (ED or ES) per patient.

Two layouts are detected automatically:

* the official NIfTI release: ``patientNNN/patientNNN_frameFF.nii.gz`` with
  ``patientNNN_frameFF_gt.nii.gz`` and an ``Info.cfg`` holding ``ED:`` and ``ES:`` lines,
  in ``root`` itself or in its ``training/`` and ``testing/`` folders. nibabel gives the
  arrays as ``(X, Y, Z)``; they are transposed to ``(Z, Y, X)`` so that they look like
  the HDF5 layout below (made by SimpleITK's ``GetArrayFromImage`` from the same files),
  and the spacing is ``(Y, X)`` from the header zooms.
* the SSL4MIS / WSL4MIS "volumes" layout: ``patientNNN_frameFF.h5`` (keys ``image`` and
  ``label``, already ``(Z, H, W)``) in ``root`` or ``root/ACDC_training_volumes``. It has
  no ``Info.cfg``: ED is the earlier frame of a patient, ES the later one. No spacing is
  stored, so ``spacing`` is None.

When a directory holds both, the NIfTI release is used (it has the real spacing).
In both layouts slice 0 is the base of the heart, the RV lies left of the LV and the
anterior chest wall is on the left, with the abdomen at the bottom.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from oodcalib.config import DataConfig
from oodcalib.datasets.case import Case
from oodcalib.datasets.file_glob import unique_files
from oodcalib.datasets.io import (
    IDENTITY_LABELS,
    check_finite,
    read_hdf5,
    read_image_and_label,
    require_dir,
)
from oodcalib.datasets.validation import remap_labels, validate_case
from oodcalib.errors import DataError, OodcalibError

PHASES = ("ED", "ES")
_H5_NAME = re.compile(r"^(patient\d+)_frame(\d+)\.h5$")
_EXPECTED = (
    "ACDC data: patientNNN_frameFF.h5 files (here or in ACDC_training_volumes/), or "
    "patientNNN/ folders with Info.cfg and patientNNN_frameFF[_gt].nii.gz (here or in "
    "training/ and testing/)"
)


def load_acdc(root: str | Path, *, phase: str = "ES", domain: str = "clean") -> list[Case]:
    """Load one cardiac phase of every ACDC patient under ``root``, as raw cases.

    Args:
        root: Folder of the official release (or its ``training``/``testing`` parent), or
            of the SSL4MIS HDF5 volumes (or its parent).
        phase: ``"ES"`` (end-systole) or ``"ED"`` (end-diastole), case-insensitive.
        domain: Domain name given to the cases.

    Returns:
        Validated cases sorted by case id (``patient001``, ...), with meta
        ``{"phase", "frame"}`` (plus ``"group"`` from ``Info.cfg`` when present).

    Raises:
        ValueError: If ``phase`` is not ED or ES.
        DataError: If the directory holds no ACDC data or a file is missing or bad.
    """
    key = phase.strip().upper()
    if key not in PHASES:
        raise ValueError(f"unknown ACDC phase {phase!r}; valid phases are: {', '.join(PHASES)}")
    root = require_dir(root, _EXPECTED)
    patient_dirs = unique_files(  # each folder once, by its real path
        d
        for base in (root, root / "training", root / "testing")
        if base.is_dir()
        for d in base.glob("patient*")
        if d.is_dir() and re.fullmatch(r"patient\d+", d.name)
    )
    if patient_dirs:
        cases = [_load_nifti_patient(d, key, domain) for d in patient_dirs]
    else:
        h5_files = unique_files(
            f
            for base in (root, root / "ACDC_training_volumes")
            if base.is_dir()
            for f in base.glob("patient*_frame*.h5")
            if _H5_NAME.match(f.name)
        )
        if not h5_files:
            raise DataError(root, f"no ACDC data found; expected {_EXPECTED}")
        cases = _load_hdf5_cases(h5_files, key, domain)
    ids = [c.case_id for c in cases]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise DataError(root, f"patients found more than once: {duplicates}")
    return sorted(cases, key=lambda c: c.case_id)


def parse_info_cfg(text: str, path: str | Path) -> dict[str, str]:
    r"""Parse the ``key: value`` lines of an ACDC ``Info.cfg``.

    Example:
        >>> parse_info_cfg("ED: 1\nES: 12\nGroup: DCM\n", "Info.cfg")
        {'ED': '1', 'ES': '12', 'Group': 'DCM'}
    """
    info = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        if ":" not in line:
            raise DataError(path, f"malformed line {line.strip()!r}; expected 'key: value'")
        name, value = line.split(":", 1)
        info[name.strip()] = value.strip()
    return info


def _frame_number(info: dict[str, str], phase: str, path: Path) -> int:
    if phase not in info:
        raise DataError(path, f"no '{phase}:' line giving the {phase} frame number")
    try:
        return int(float(info[phase]))
    except ValueError as err:
        raise DataError(path, f"'{phase}: {info[phase]}' is not a frame number") from err


def _load_nifti_patient(folder: Path, phase: str, domain: str) -> Case:
    cfg = folder / "Info.cfg"
    try:
        text = cfg.read_text()
    except OSError as err:
        raise DataError(cfg, f"cannot read the patient's Info.cfg ({err})") from err
    info = parse_info_cfg(text, cfg)
    frame = _frame_number(info, phase, cfg)
    image_path = folder / f"{folder.name}_frame{frame:02d}.nii.gz"
    label_path = folder / f"{folder.name}_frame{frame:02d}_gt.nii.gz"
    for path, what in ((image_path, "image"), (label_path, "label")):
        if not path.is_file():
            raise DataError(path, f"{phase} frame {frame} {what} file not found (from {cfg})")
    image, raw_label, image_nii = read_image_and_label(image_path, label_path)
    assert raw_label is not None  # read from label_path
    label = remap_labels(raw_label, IDENTITY_LABELS, str(label_path))
    zooms = image_nii.header.get_zooms()
    meta = {"phase": phase, "frame": frame, "slice_spacing": float(zooms[2])}
    if "Group" in info:
        meta["group"] = info["Group"]
    case = Case(
        case_id=folder.name,
        image=np.ascontiguousarray(image.transpose(2, 1, 0), dtype=np.float32),
        label=np.ascontiguousarray(label.transpose(2, 1, 0)),
        domain=domain,
        spacing=(float(zooms[1]), float(zooms[0])),
        source=f"{image_path} (label {label_path.name})",
        meta=meta,
    )
    return validate_case(case)


def _load_hdf5_cases(files: list[Path], phase: str, domain: str) -> list[Case]:
    frames: dict[str, list[tuple[int, Path]]] = {}
    for f in files:
        match = _H5_NAME.match(f.name)
        assert match is not None  # the files were picked by this pattern
        patient, frame = match.groups()
        frames.setdefault(patient, []).append((int(frame), f))
    cases = []
    for patient, found in sorted(frames.items()):
        found.sort()
        if len(found) != 2:
            names = [f.name for _, f in found]
            raise DataError(
                found[0][1].parent / f"{patient}_frame*.h5",
                f"expected exactly two frames (ED and ES) for {patient}, found {names}",
            )
        frame, path = found[0] if phase == "ED" else found[1]
        data = read_hdf5(path, ("image", "label"))
        check_finite(data["image"], path)
        label = remap_labels(data["label"], IDENTITY_LABELS, str(path))
        case = Case(
            case_id=patient,
            image=data["image"].astype(np.float32),
            label=label,
            domain=domain,
            spacing=None,
            source=str(path),
            meta={"phase": phase, "frame": frame},
        )
        cases.append(validate_case(case))
    return cases


def from_config(data: DataConfig, seed: int = 0) -> list[Case]:
    """ACDC from ``data.root``, phase ``data.phase`` (``--data-root``); ``seed`` unused."""
    if not data.root:
        raise OodcalibError("data source 'acdc' needs --data-root (the ACDC folder)")
    return load_acdc(data.root, phase=data.phase)
