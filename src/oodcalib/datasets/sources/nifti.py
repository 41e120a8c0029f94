"""Any NIfTI set of cardiac short-axis scans, given by glob patterns and a label map.

Images and labels are paired by case id: the part of each path matched by the wildcards
of its pattern (``imgs/*_img.nii.gz`` gives ``p7`` for ``imgs/p7_img.nii.gz``). Each
volume is brought to the package's orientation convention from its image affine (RV
left of LV, rows to the feet, base first; :mod:`oodcalib.datasets.orientation`), so a
set stored LPS, PIR, PSR or LSP loads like ACDC. For files with broken affines,
``orientation="stored"`` (``--set data.orientation=stored``) uses the arrays as stored,
with ``slice_axis`` moved first.

4D ``(H, W, Z, T)`` files need a frame (``data.frame``): an index, or ``ED``/``ES`` read
from a sidecar next to the image, either ``<image stem>.json`` with 0-based ``{"ED": i,
"ES": j}`` or ACDC's ``Info.cfg`` (1-based ``ED: i``, ``ES: j``). A 4D label file gives the
same frame; a 3D one is used as it is.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from oodcalib.config import DataConfig
from oodcalib.datasets.case import NUM_CLASSES, Case
from oodcalib.datasets.file_glob import glob_files
from oodcalib.datasets.io import (
    IDENTITY_LABELS,
    read_image_and_label,
)
from oodcalib.datasets.orientation import (
    affine_problem,
    canonical_order,
    orientation_code,
    to_canonical,
)
from oodcalib.datasets.sources.acdc import parse_info_cfg
from oodcalib.datasets.validation import remap_labels, validate_case
from oodcalib.errors import DataError, OodcalibError

#: How a case id is made from a file's path, in words (``oodcalib inspect`` prints it).
CASE_ID_RULE = (
    "the text each wildcard of the images glob matched, joined by '_' (the folders a '**' "
    "matched included, '/' becoming '_'); a glob without wildcards gives the file name "
    "without .nii[.gz]. Example: images=/d/*/*_sa_E?.nii.gz and /d/better/G1K1V3_sa_ED.nii.gz "
    "give better_G1K1V3_D. Patient ids are found in case ids by patient_pattern (a regex: "
    "its first group, else its match), e.g. patient_pattern=^([^_]+_[^_]+)"
)
#: How volumes are oriented: from the image affine, or used as stored.
ORIENTATIONS = ("affine", "stored")
_WILDCARD = re.compile(r"(\*\*/|\*\*|\*|\?|\[!?\]?[^\]]*\])")


def load_nifti(
    images: str,
    labels: str | None = None,
    *,
    label_map: dict[int, int] | None = None,
    domain: str = "custom",
    slice_axis: int = 2,
    orientation: str = "affine",
    frame: int | str | None = None,
) -> list[Case]:
    """Load a user's NIfTI scans (and label maps) as raw cases.

    Args:
        images: Glob pattern of the image files, e.g. ``"data/imgs/*_img.nii.gz"``.
        labels: Glob pattern of the label files, e.g. ``"data/labs/*_lab.nii.gz"``, or
            None for unlabelled scans.
        label_map: Raw label code -> class (1 RV, 2 MYO, 3 LV, or 0 to drop a
            structure), e.g. ``{1: 3, 2: 2, 3: 1}`` for a set with LV=1 and RV=3;
            None keeps codes 1/2/3 as they are. Unlisted codes other than 0 are errors.
        domain: Domain name given to the cases.
        slice_axis: With ``orientation="stored"``, the array axis holding the short-axis
            slices; it is moved to the front.
        orientation: ``"affine"`` (reorient from the image affine) or ``"stored"``.
        frame: For 4D files: a 0-based index, or ``"ED"``/``"ES"`` from a sidecar.

    Returns:
        Validated cases sorted by case id, with spacing ``(row, col)`` from the header
        zooms of the two in-plane axes and ``meta["orientation"]``, the stored code.

    Raises:
        ValueError: If ``slice_axis`` or ``label_map`` is invalid.
        DataError: If a pattern matches nothing, files do not pair up or a file is bad.
    """
    if slice_axis not in range(-3, 3):
        raise ValueError(f"slice_axis must be 0, 1 or 2 (or negative), got {slice_axis}")
    if orientation not in ORIENTATIONS:
        raise ValueError(
            f"orientation must be one of {', '.join(ORIENTATIONS)}, "
            f"got {orientation!r} (data.orientation)"
        )
    slice_axis %= 3
    mapping = IDENTITY_LABELS if label_map is None else {int(k): v for k, v in label_map.items()}
    bad = {k: v for k, v in mapping.items() if v not in range(NUM_CLASSES)}
    if bad:
        raise ValueError(f"label_map targets must be 0..3 (1 RV, 2 MYO, 3 LV), got {bad}")
    image_files = match_pattern(images)
    label_files = match_pattern(labels) if labels is not None else None
    if label_files is not None:
        _check_pairs(image_files, label_files)
    cases = []
    for case_id, image_path in sorted(image_files.items()):
        label_path = None if label_files is None else label_files[case_id]
        index, origin = frame_source(image_path, frame)
        cases.append(
            _load_case(
                case_id,
                image_path,
                label_path,
                mapping,
                domain,
                slice_axis,
                orientation,
                index,
                origin,
            )
        )
    return cases


def match_pattern(pattern: str) -> dict[str, Path]:
    """Glob ``pattern`` and key the files by the text its wildcards matched.

    Several wildcards (and the folders matched by ``**``) give ids joined by ``_``; a
    pattern without wildcards gives the file name without its ``.nii[.gz]`` extension.
    Files are found by :func:`~oodcalib.datasets.file_glob.glob_files`: each real file
    once, and never through a symlink loop.

    Raises:
        DataError: If nothing matches or two files get the same id.
    """
    pattern = os.path.expanduser(pattern)
    files = [str(p) for p in glob_files(pattern)]  # each file once, no symlink loop
    if not files:
        raise DataError(pattern, "no file matches this glob pattern")
    regex = re.compile(
        "".join(
            _wildcard_regex(p) if i % 2 else re.escape(p)
            for i, p in enumerate(_WILDCARD.split(pattern))
        )
        + r"\Z"
    )
    found: dict[str, list[str]] = {}
    for path in files:
        match = regex.match(path)
        parts = [g for g in match.groups() if g] if match else []
        case_id = "_".join(parts).replace("/", "_") or re.sub(r"\.nii(\.gz)?$", "", Path(path).name)
        found.setdefault(case_id, []).append(path)
    clashes = {k: v for k, v in found.items() if len(v) > 1}
    if clashes:
        raise DataError(pattern, f"several files get the same case id: {clashes}")
    return {k: Path(v[0]) for k, v in found.items()}


def _wildcard_regex(token: str) -> str:
    if token == "**/":
        return "(?:(.*)/)?"
    if token == "**":
        return "(.*)"
    if token == "*":
        return "([^/]*)"
    if token == "?":
        return "([^/])"
    return "([" + ("^" + token[2:-1] if token.startswith("[!") else token[1:-1]) + "])"


def _check_pairs(images: dict[str, Path], labels: dict[str, Path]) -> None:
    for own, other, what in ((images, labels, "label"), (labels, images, "image")):
        unmatched = sorted(str(p) for k, p in own.items() if k not in other)
        if unmatched:
            shown = ", ".join(unmatched[:5]) + (" ..." if len(unmatched) > 5 else "")
            raise DataError(
                shown, f"{len(unmatched)} file(s) with no matching {what} file (same case id)"
            )


def _load_case(
    case_id: str,
    image_path: Path,
    label_path: Path | None,
    mapping: dict[int, int],
    domain: str,
    slice_axis: int,
    orientation: str,
    frame: int | None = None,
    origin: str = "data.frame",
) -> Case:
    image, raw_label, image_nii = read_image_and_label(image_path, label_path, frame, origin)
    zooms = image_nii.header.get_zooms()
    if orientation == "affine":
        problem = affine_problem(image_nii.affine)
        if problem is not None:
            raise DataError(
                image_path,
                f"the header's affine (sform/qform) cannot orient the volume: {problem}; "
                "fix the header, or use the arrays as stored with "
                "data.orientation=stored (orientation=stored in a --domain)",
            )
        axes, flips = canonical_order(image_nii.affine, zooms)
    else:
        row_axis, col_axis = (a for a in range(3) if a != slice_axis)
        axes, flips = (slice_axis, row_axis, col_axis), (False, False, False)
    label = None
    if raw_label is not None:
        label = to_canonical(remap_labels(raw_label, mapping, str(label_path)), axes, flips)
    case = Case(
        case_id=case_id,
        image=to_canonical(image, axes, flips).astype(np.float32),
        label=label,
        domain=domain,
        spacing=(float(zooms[axes[1]]), float(zooms[axes[2]])),
        source=str(image_path) if label_path is None else f"{image_path} (label {label_path.name})",
        meta={
            "orientation": orientation_code(image_nii.affine),
            "slice_spacing": float(zooms[axes[0]]),
            "reoriented": orientation == "affine",
            **({"frame": frame} if frame is not None else {}),
        },
    )
    return validate_case(case, require_label=label_path is not None)


def frame_index(image_path: Path, frame: int | str | None) -> int | None:
    """The 0-based frame of a 4D file: ``frame`` itself, or ED/ES from the sidecar.

    Raises:
        DataError: ED/ES asked for but no sidecar names it.
    """
    return frame_source(image_path, frame)[0]


def frame_source(image_path: Path, frame: int | str | None) -> tuple[int | None, str]:
    """:func:`frame_index`, and where the index came from, for messages about it.

    Example:
        >>> frame_source(Path("scan.nii.gz"), 2)
        (2, 'data.frame')
    """
    if frame is None or isinstance(frame, int):
        return frame, "data.frame"
    phase = str(frame).upper()
    if phase.isdigit():
        return int(phase), "data.frame"
    if phase not in ("ED", "ES"):
        raise DataError(image_path, f"data.frame must be ED, ES or a frame index, got {frame!r}")
    stem = re.sub(r"\.nii(\.gz)?$", "", image_path.name)
    sidecar = image_path.with_name(f"{stem}.json")
    if sidecar.is_file():
        try:
            return int(json.loads(sidecar.read_text())[phase]), f"{phase} in {sidecar}"
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise DataError(
                sidecar,
                f"cannot read frame {phase} ({error!r}); expected "
                '{"ED": i, "ES": j} with 0-based indices',
            ) from error
    info = image_path.with_name("Info.cfg")
    if info.is_file():
        values = parse_info_cfg(info.read_text(), info)
        if phase in values:
            return int(values[phase]) - 1, f"{phase} in {info} (1-based)"
    raise DataError(
        image_path,
        f"data.frame={phase} needs a sidecar naming it: {sidecar.name} "
        '({"ED": i, "ES": j}, 0-based) or Info.cfg (ACDC, 1-based); '
        "or give a frame index",
    )


def from_config(data: DataConfig, seed: int = 0) -> list[Case]:
    """NIfTI cases from ``data.nifti_images`` / ``data.nifti_labels`` and ``data.label_map``."""
    d = data
    if not d.nifti_images:
        raise OodcalibError("data source 'nifti' needs --set data.nifti_images=GLOB")
    return load_nifti(
        d.nifti_images,
        d.nifti_labels,
        label_map=d.label_map,
        domain="clean",
        orientation=d.orientation,
        frame=d.frame,
    )
