"""Checks applied to every case a source yields, with errors that name the file."""

from __future__ import annotations

import numpy as np

from oodcalib.datasets.case import NUM_CLASSES, Case
from oodcalib.errors import DataError

#: In-plane pixel sizes (mm) a scan may have; outside, its header is wrong.
PIXEL_MM = (0.01, 100.0)


def validate_case(case: Case, *, require_label: bool = True) -> Case:
    """Check a case's arrays and raise a :class:`DataError` naming its file if bad.

    Checks: ``image`` is 3D ``(Z, H, W)`` with no NaN/inf (a constant image, all zeros
    say, gets a warning); a known ``spacing`` is within :data:`PIXEL_MM`; ``label`` (if required
    or present) has the image's shape, only values in ``0..3``, and some foreground.

    Args:
        case: The case to check.
        require_label: Whether a missing label is an error.

    Returns:
        The same case, for chaining.

    Raises:
        DataError: On the first problem found.

    Example:
        >>> import numpy as np
        >>> c = Case("c1", np.zeros((2, 4, 4), np.float32), np.ones((2, 4, 5), np.uint8),
        ...          "clean", source="c1.nii.gz")
        >>> validate_case(c)
        Traceback (most recent call last):
        ...
        oodcalib.errors.DataError: c1.nii.gz: image shape (2, 4, 4) and label shape (2, 4, 5) differ
    """
    where = case.source or case.case_id
    if case.image.ndim != 3:
        raise DataError(where, f"image must be a (Z, H, W) stack, got shape {case.image.shape}")
    if case.image.size == 0:
        raise DataError(where, "image is empty")
    if not np.all(np.isfinite(case.image)):
        n_bad = int((~np.isfinite(case.image)).sum())
        raise DataError(where, f"image contains {n_bad} NaN or infinite values")
    if case.spacing is not None and not all(
        np.isfinite(s) and PIXEL_MM[0] <= s <= PIXEL_MM[1] for s in case.spacing
    ):
        size = " x ".join(f"{s:g}" for s in case.spacing)
        raise DataError(
            where,
            f"pixel size {size} mm (the header's zooms) is not one of an MRI scan "
            f"({PIXEL_MM[0]:g} to {PIXEL_MM[1]:g} mm); fix the header's pixdim",
        )
    if float(np.ptp(case.image)) == 0.0:
        import warnings

        warnings.warn(
            f"{where}: the image is constant ({float(case.image.flat[0]):g} "
            "everywhere): it carries no signal",
            UserWarning,
            stacklevel=2,
        )
    if case.label is None:
        if require_label:
            raise DataError(where, "no label map found for this case")
        return case
    if case.label.shape != case.image.shape:
        raise DataError(
            where, f"image shape {case.image.shape} and label shape {case.label.shape} differ"
        )
    values = np.unique(case.label)
    unknown = [v for v in values.tolist() if v not in range(NUM_CLASSES)]
    if unknown:
        raise DataError(
            where,
            f"unknown label values {unknown}; expected 0 background, 1 RV, 2 MYO, 3 LV. "
            + label_map_hint(unknown),
        )
    if not np.any(case.label > 0):
        raise DataError(where, "label map has no foreground: the calibration ROI would be empty")
    return case


def label_map_hint(codes: list[int]) -> str:
    """How to map raw label codes to the package's classes, with the codes found.

    Example:
        >>> label_map_hint([200, 500, 600])  # doctest: +NORMALIZE_WHITESPACE
        "Map each code to its class (1 RV, 2 MYO, 3 LV, 0 to drop it): --set
        data.label_map='{200: C, 500: C, 600: C}', or label_map={200: C, 500: C, 600: C}
        in a --domain spec, each C being the class of that code"
    """
    entries = ", ".join(f"{code}: C" for code in codes)
    return (
        "Map each code to its class (1 RV, 2 MYO, 3 LV, 0 to drop it): "
        f"--set data.label_map='{{{entries}}}', or label_map={{{entries}}} in a --domain "
        "spec, each C being the class of that code"
    )


def remap_labels(label: np.ndarray, label_map: dict[int, int], where: str) -> np.ndarray:
    """Map raw label codes to 0..3 and reject codes the map does not cover.

    Args:
        label: Integer label array with raw codes.
        label_map: Raw code -> class index; 0 maps to 0 when not given.
        where: File name for the error message.

    Returns:
        A uint8 array in the package's label convention.

    Example:
        >>> remap_labels(np.array([0, 200, 500, 600]), {200: 2, 500: 3, 600: 1}, "x").tolist()
        [0, 2, 3, 1]
    """
    label = np.asarray(label)
    if not np.all(np.isfinite(label)):
        raise DataError(where, "label map contains NaN or infinite values")
    if np.issubdtype(label.dtype, np.floating):
        rounded = np.rint(label)
        if not np.allclose(label, rounded):
            raise DataError(where, "label map has non-integer values")
        label = rounded.astype(np.int64)
    full = {0: 0, **{int(k): int(v) for k, v in label_map.items()}}
    values = np.unique(label).tolist()
    unknown = [v for v in values if v not in full]
    if unknown:
        raise DataError(
            where,
            f"unknown label values {unknown}; the label map covers {sorted(full)}. "
            + label_map_hint(unknown),
        )
    out = np.zeros(label.shape, np.uint8)
    for raw, cls in full.items():
        out[label == raw] = cls
    return out
