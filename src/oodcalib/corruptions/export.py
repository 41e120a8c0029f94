"""Write corrupted cases as NIfTI files for visual inspection (``oodcalib corrupt``).

Layout under ``out_dir``::

    clean/{case_id}.nii.gz         per-slice min-max normalised clean image (the input
                                   of every corruption)
    {name}/{case_id}.nii.gz        corrupted image, one folder per corruption
    labels/{case_id}.nii.gz        uint8 label map (cases with a label only)
    parameters.json                every case's sampled parameters

Volumes are stored as ``(H, W, Z)`` (the ``(Z, H, W)`` stack transposed, as nibabel reads
a short-axis NIfTI) with affine ``diag(spacing_row, spacing_col, 1)``, or the identity
when the in-plane spacing is unknown. The slice spacing is not known to a
:class:`~oodcalib.datasets.case.Case` and is written as 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np

from oodcalib.atomic import write_text
from oodcalib.corruptions.artifacts import corrupt_case, get_corruption, minmax_slices
from oodcalib.corruptions.cache import CorruptionCache
from oodcalib.corruptions.severity import check_severity
from oodcalib.datasets.case import Case
from oodcalib.errors import DataError


def _save(array: np.ndarray, spacing: tuple[float, float] | None, path: Path) -> Path:
    affine = np.eye(4)
    if spacing is not None:
        affine[0, 0], affine[1, 1] = spacing
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(np.ascontiguousarray(array.transpose(1, 2, 0)), affine), path)
    return path


def write_corrupted_nifti(
    cases: list[Case],
    names: list[str],
    severity: int,
    seed: int,
    out_dir: Path,
    cache: CorruptionCache | None = None,
) -> list[Path]:
    """Corrupt every case with every corruption and write the results as NIfTI.

    Args:
        cases: Clean cases with distinct ids.
        names: Corruption names (see :data:`~oodcalib.corruptions.CORRUPTIONS`).
        severity: Level in 1..5.
        seed: Base seed (see :func:`~oodcalib.corruptions.corrupt_case`).
        out_dir: Output folder (created).
        cache: Optional cache to reuse or store the corrupted cases.

    Returns:
        Every written path, ``parameters.json`` last.

    Raises:
        UnknownNameError: If a name is not a corruption (before anything is written).
        ValueError: If ``severity`` is not in 1..5.
        DataError: If two cases share an id.

    Example:
        >>> import tempfile
        >>> c = Case("p1", np.random.default_rng(0).random((2, 8, 8)), None, "clean")
        >>> out = Path(tempfile.mkdtemp())
        >>> paths = write_corrupted_nifti([c], ["spike"], 3, 0, out)
        >>> [p.relative_to(out).as_posix() for p in paths]
        ['clean/p1.nii.gz', 'spike/p1.nii.gz', 'parameters.json']
    """
    canonical = [get_corruption(name).name for name in names]
    severity = check_severity(severity)
    seen: set[str] = set()
    for case in cases:
        if case.case_id in seen:
            raise DataError(case.source or case.case_id, f"duplicate case id {case.case_id!r}")
        seen.add(case.case_id)
    out_dir = Path(out_dir)
    written: list[Path] = []
    records: list[dict] = []
    for case in cases:
        written.append(
            _save(
                minmax_slices(case.image),
                case.spacing,
                out_dir / "clean" / f"{case.case_id}.nii.gz",
            )
        )
        if case.label is not None:
            label = np.asarray(case.label, dtype=np.uint8)
            written.append(
                _save(label, case.spacing, out_dir / "labels" / f"{case.case_id}.nii.gz")
            )
        for name in canonical:
            if cache is None:
                corrupted = corrupt_case(case, name, severity, seed)
            else:
                corrupted = cache.get(case, name, severity, seed)
            written.append(
                _save(corrupted.image, case.spacing, out_dir / name / f"{case.case_id}.nii.gz")
            )
            records.append({"case_id": case.case_id, **corrupted.meta["corruption"]})
    summary = {"severity": severity, "seed": seed, "corruptions": canonical, "cases": records}
    params_path = out_dir / "parameters.json"
    write_text(params_path, json.dumps(summary, indent=1))
    written.append(params_path)
    return written
