"""MS-CMRSeg 2019 late gadolinium enhancement (LGE) short-axis scans.

Layout: ``root/images/subjectN_DE.nii.gz`` (int16) and
``root/labels/subjectN_DE_manual.nii.gz``, arrays ``(H, W, Z)`` as stored. Labels use
either the package's codes (1 RV, 2 MYO, 3 LV) or the official ones (200 MYO, 500 LV,
600 RV); the code set is detected per file.

The arrays are brought to the package's orientation convention from the image affine
(:mod:`oodcalib.datasets.orientation`); the label gets exactly the same array operation,
computed from the image's affine only: a label whose header disagrees with its image
(subject43: RAS vs PSR) but whose array has the same shape is used as stored, with a
warning.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np

from oodcalib.config import DataConfig
from oodcalib.datasets.case import Case
from oodcalib.datasets.file_glob import unique_files
from oodcalib.datasets.io import (
    IDENTITY_LABELS,
    read_image_and_label,
    require_dir,
)
from oodcalib.datasets.orientation import canonical_order, orientation_code, to_canonical
from oodcalib.datasets.validation import remap_labels, validate_case
from oodcalib.errors import DataError, OodcalibError

#: Official MS-CMRSeg label codes -> package classes (1 RV, 2 MYO, 3 LV).
OFFICIAL_LABELS: dict[int, int] = {200: 2, 500: 3, 600: 1}

_IMAGE_NAME = re.compile(r"^(subject\d+)_DE\.nii(\.gz)?$")


def load_mscmr_lge(root: str | Path, *, domain: str = "lge") -> list[Case]:
    """Load every MS-CMRSeg LGE subject under ``root``, as raw reoriented cases.

    Args:
        root: Folder holding ``images/`` and ``labels/``, or a data pack file
            (:mod:`~oodcalib.datasets.pack`), whose LGE cases are already prepared.
        domain: Domain name given to the cases.

    Returns:
        Validated cases sorted by case id (``subject1``, ``subject10``, ...): float32
        images with raw intensities, labels 0..3, spacing ``(row, col)`` in mm of the
        reoriented arrays, meta ``{"label_codes": "package" | "official"}``.

    Raises:
        DataError: If a directory is missing or empty, or a file is missing or bad.
    """
    expected = "images/subjectN_DE.nii.gz and labels/subjectN_DE_manual.nii.gz"
    if Path(root).is_file():  # a data pack (`oodcalib pack`): its prepared LGE cases
        from oodcalib.datasets.pack import read_pack

        return [replace(c, domain=domain) for c in read_pack(root, "lge")]
    root = require_dir(root, f"MS-CMRSeg LGE data: {expected}")
    image_dir = require_dir(root / "images", "subjectN_DE.nii.gz LGE images")
    label_dir = require_dir(root / "labels", "subjectN_DE_manual.nii.gz label maps")
    images = unique_files(p for p in image_dir.iterdir() if _IMAGE_NAME.match(p.name))
    if not images:
        raise DataError(image_dir, "no subjectN_DE.nii.gz images found")
    cases = []
    for image_path in images:
        match = _IMAGE_NAME.match(image_path.name)
        assert match is not None  # the images were picked by this pattern
        subject = match.group(1)
        candidates = [label_dir / f"{subject}_DE_manual.nii{ext}" for ext in (".gz", "")]
        label_path = next((p for p in candidates if p.is_file()), None)
        if label_path is None:
            raise DataError(candidates[0], f"label map of {image_path.name} not found")
        cases.append(_load_subject(subject, image_path, label_path, domain))
    return sorted(cases, key=lambda c: c.case_id)


def _load_subject(subject: str, image_path: Path, label_path: Path, domain: str) -> Case:
    image, raw_label, image_nii = read_image_and_label(image_path, label_path)
    assert raw_label is not None  # read from label_path
    codes = set(np.unique(raw_label).tolist())
    official = bool(codes & set(OFFICIAL_LABELS))
    if official and codes & set(IDENTITY_LABELS):
        raise DataError(
            label_path,
            f"label values {sorted(codes)} mix the codes 1 RV/2 MYO/3 LV with the official "
            "MS-CMRSeg codes 200 MYO/500 LV/600 RV",
        )
    label = remap_labels(
        raw_label, OFFICIAL_LABELS if official else IDENTITY_LABELS, str(label_path)
    )
    zooms = image_nii.header.get_zooms()
    axes, flips = canonical_order(image_nii.affine, zooms)
    case = Case(
        case_id=subject,
        image=to_canonical(image, axes, flips).astype(np.float32),
        label=to_canonical(label, axes, flips),
        domain=domain,
        spacing=(float(zooms[axes[1]]), float(zooms[axes[2]])),
        source=f"{image_path} (label {label_path.name})",
        meta={
            "label_codes": "official" if official else "package",
            "orientation": orientation_code(image_nii.affine),
            "slice_spacing": float(zooms[axes[0]]),
            "reoriented": True,
        },
    )
    return validate_case(case)


def from_config(data: DataConfig, seed: int = 0) -> list[Case]:
    """MS-CMRSeg LGE from ``data.root``, as a training source (``seed`` unused).

    The cross-sequence test domain reads ``data.lge_root`` instead (see the protocol).
    """
    if not data.root:
        raise OodcalibError("data source 'mscmr_lge' needs --data-root (the MS-CMRSeg folder)")
    return load_mscmr_lge(data.root, domain="clean")
