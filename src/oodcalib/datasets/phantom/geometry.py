"""Scan geometry of a phantom case: field of view, heart pose and short-axis slices.

Per case, the pixel size is drawn in ``[0.8, 1.27] x`` the nominal spacing (1.2 to 1.9 mm
at the default 1.5 mm; raised within that range when a large heart would not fit), so
the same matrix covers a varying field of view. The scene is rotated in-plane by up to
40 degrees either way (as far as the RV stays on the image left, between 29 degrees
below and 52 degrees above the horizontal) and the heart placed off-centre by up to 15%
of the field of view, as far as it then stays inside it. Slices are 5 to 10 mm thick,
their centres 7.5 to 10 mm apart (never closer than their thickness), from just above
the AV plane to about the apex: 6 to 12 slices.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from oodcalib.datasets.phantom.anatomy import Anatomy

#: Pixel size relative to the nominal spacing.
SPACING_FACTOR = (0.8, 1.9 / 1.5)
#: Slice thickness and distance between slice centres (mm).
THICKNESS_MM = (5.0, 10.0)
SLICE_GAP_MM = (7.5, 10.0)
#: Number of slices.
N_SLICES = (6, 12)
#: In-plane rotation of the scene (radians) and heart offset (fraction of the FOV).
MAX_ROTATION = math.radians(40)
MAX_OFFSET = 0.15
#: Directions (image angle, y down) the RV may point to from the LV after rotation.
RV_DIRECTION = (math.pi - 0.5, math.pi + 0.9)


@dataclass(frozen=True)
class Geometry:
    """Where and how one case is imaged (mm and radians; JSON-serialisable).

    Attributes:
        spacing: In-plane pixel size (mm).
        size: Image height and width (pixels).
        rotation: In-plane rotation of the scene about the LV axis.
        heart_xy: LV axis at the base, relative to the image centre (image frame).
        slice_z: Depth of each slice centre along the LV axis (0: AV plane), base first.
        thickness: Slice thickness.
        slice_gap: Distance between neighbouring slice centres.
    """

    spacing: float
    size: int
    rotation: float
    heart_xy: tuple[float, float]
    slice_z: tuple[float, ...]
    thickness: float
    slice_gap: float

    @property
    def n_slices(self) -> int:
        """Number of slices."""
        return len(self.slice_z)

    def to_meta(self) -> dict:
        """Return the geometry as a plain, JSON-serialisable dict."""
        return asdict(self)


def sample_geometry(
    rng: np.random.Generator, anatomy: Anatomy, size: int, spacing: float
) -> Geometry:
    """Draw the scan geometry of one case.

    The draws do not depend on ``size`` or ``spacing`` (only the clipping of the pixel
    size and of the heart offset to the field of view do), so the anatomy has a fixed
    physical size and the pixel size scales with ``spacing``.

    Args:
        rng: Generator the parameters are drawn from (consumed).
        anatomy: The case's anatomy (heart size and LV length).
        size: Image height and width in pixels.
        spacing: Nominal pixel size in mm.

    Returns:
        The sampled :class:`Geometry`.

    Example:
        >>> from oodcalib.datasets.phantom.anatomy import sample_anatomy
        >>> rng = np.random.default_rng(0)
        >>> g = sample_geometry(rng, sample_anatomy(rng), 160, 1.5)
        >>> 1.2 <= g.spacing <= 1.9 and 6 <= g.n_slices <= 12 and 5 <= g.thickness <= 10
        True
    """
    # rotation: within +-40 degrees, with the RV kept on the image left of the LV
    low = max(-MAX_ROTATION, RV_DIRECTION[0] - anatomy.rv_angle)
    high = min(MAX_ROTATION, RV_DIRECTION[1] - anatomy.rv_angle)
    factor, rotation = rng.uniform(*SPACING_FACTOR), rng.uniform(low, high)
    offset, direction = MAX_OFFSET * math.sqrt(rng.uniform()), rng.uniform(0, 2 * math.pi)
    gap = float(rng.uniform(*SLICE_GAP_MM))
    thickness = float(rng.uniform(THICKNESS_MM[0], min(gap, THICKNESS_MM[1])))
    first = float(rng.uniform(-14, 2))
    last = anatomy.lv_length * float(rng.uniform(0.94, 1.06))
    n = round((last - first) / gap) + 1
    if not N_SLICES[0] <= n <= N_SLICES[1]:  # a long heart may then end below the stack
        n = int(np.clip(n, *N_SLICES))
        gap = min((last - first) / (n - 1), SLICE_GAP_MM[1])
        thickness = min(thickness, gap)
    px = float(spacing * factor)
    px = min(max(px, 2 * (anatomy.extent + 8) / size), spacing * SPACING_FACTOR[1])  # big hearts
    fov = size * px
    room = max(0.0, fov / 2 - anatomy.extent - 3 * px)  # keep the heart inside the image
    offset = min(offset * fov, room)
    heart = (offset * math.cos(direction), offset * math.sin(direction))
    return Geometry(
        spacing=round(px, 5),
        size=int(size),
        rotation=round(float(rotation), 5),
        heart_xy=(round(heart[0], 3), round(heart[1], 3)),
        slice_z=tuple(round(first + i * gap, 3) for i in range(n)),
        thickness=round(thickness, 3),
        slice_gap=round(gap, 3),
    )
