"""The unit of data: one 3D short-axis scan as a stack of 2D slices."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

#: Label convention used everywhere in the package.
CLASS_NAMES: tuple[str, ...] = ("background", "RV", "MYO", "LV")
NUM_CLASSES = len(CLASS_NAMES)


@dataclass
class Case:
    """One scan.

    Attributes:
        case_id: Unique id within its domain (e.g. ``patient001``, ``subject43``).
        image: ``(Z, H, W)`` float32 stack of short-axis slices.
        label: ``(Z, H, W)`` uint8 label map (0 background, 1 RV, 2 MYO, 3 LV), or None.
        domain: Name of the domain the scan comes from (``clean``, ``lge``, ...).
        spacing: In-plane pixel spacing ``(row, col)`` in mm, or None when unknown.
        source: The file(s) the case was read from, used in error messages.
        meta: Free-form provenance (phase, frame, corruption parameters, ...);
            ``slice_spacing`` (mm) where the file states it.
    """

    case_id: str
    image: np.ndarray
    label: np.ndarray | None
    domain: str
    spacing: tuple[float, float] | None = None
    source: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def num_slices(self) -> int:
        """Number of short-axis slices Z."""
        return int(self.image.shape[0])

    @property
    def voxel_spacing(self) -> tuple[float, float, float] | None:
        """``(slice, row, col)`` spacing in mm, or None unless both parts are known.

        Example:
            >>> c = Case("p", np.zeros((2, 4, 4)), None, "clean", (1.5, 1.5))
            >>> thick = c.with_arrays(c.image, meta={"slice_spacing": 8.0})
            >>> c.voxel_spacing is None, thick.voxel_spacing
            (True, (8.0, 1.5, 1.5))
        """
        slice_spacing = self.meta.get("slice_spacing")
        if self.spacing is None or slice_spacing is None:
            return None
        return (float(slice_spacing), *self.spacing)

    def with_arrays(self, image: np.ndarray, label: np.ndarray | None = None, **kw) -> Case:
        """Return a copy with new arrays (label kept when not given) and updated fields."""
        return replace(self, image=image, label=self.label if label is None else label, **kw)
