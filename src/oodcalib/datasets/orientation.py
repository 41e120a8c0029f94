"""One canonical orientation for every short-axis stack, found from the image's affine.

The convention is the one of the ACDC and MS-CMRSeg LGE arrays (checked by eye on every
subject): arrays are ``(Z, H, W)``; slice 0 is the base of the heart and slices run
towards the apex; image rows run from superior (lungs) to inferior (abdomen); columns run
from the RV towards the LV (anterior-right to posterior-left of the patient), so the RV
lies left of the LV and the chest wall is on the left.

Short-axis planes are oblique, about 45 degrees between the body axes, so
``nib.aff2axcodes`` (and ``as_closest_canonical``, which snaps each axis to the nearest
body axis) labels the same storage ('L', 'S', 'P') or ('P', 'S', 'R') depending on tiny
tilts, and would move the slice axis in-plane for one group. Instead:

1. the slice axis is the stored axis with the thickest voxels (short-axis stacks have
   5-10 mm slices against 1-2 mm pixels); for near-isotropic volumes, the axis closest
   to the base-to-apex direction;
2. of the eight flips and transposes of the two other axes, the one whose world
   directions best match "rows to the feet, columns from RV to LV" is taken;
3. the slices are flipped if they run from apex to base.

Labels get exactly the image's array operation: the geometry decides, never the labels.
Files with broken affines can skip all this (``data.orientation="stored"``).
"""

from __future__ import annotations

from itertools import permutations, product

import numpy as np

# World (RAS+) directions of the target array axes: rows increase towards the feet,
# columns from the RV towards the LV (left and posterior), slices from base to apex.
ROW_DIRECTION = np.array([0.0, 0.0, -1.0])
COL_DIRECTION = np.array([-1.0, -1.0, 0.0]) / np.sqrt(2.0)
APEX_DIRECTION = np.array([-1.0, 1.0, -1.0]) / np.sqrt(3.0)
#: A slice axis is "thick" when its spacing is at least this factor above the others'.
THICK_RATIO = 1.5

Order = tuple[tuple[int, int, int], tuple[bool, bool, bool]]


def slice_axis(affine: np.ndarray, zooms: tuple[float, ...] | None = None) -> int:
    """The stored axis holding the short-axis slices (see the module docstring).

    Example:
        >>> slice_axis(np.diag([1.2, 1.2, 8.0, 1.0]))
        2
    """
    spacing = np.linalg.norm(affine[:3, :3], axis=0) if zooms is None else np.asarray(zooms[:3])
    thickest = int(np.argmax(spacing))
    if spacing[thickest] >= THICK_RATIO * max(np.delete(spacing, thickest)):
        return thickest
    directions = affine[:3, :3] / np.linalg.norm(affine[:3, :3], axis=0)
    return int(np.argmax(np.abs(directions.T @ APEX_DIRECTION)))


def canonical_order(affine: np.ndarray, zooms: tuple[float, ...] | None = None) -> Order:
    """How to reorder a stored 3D stack to the canonical ``(Z, H, W)`` convention.

    Args:
        affine: The image's 4x4 voxel-to-world (RAS+) affine.
        zooms: Voxel spacings of the stored axes (default: from the affine).

    Returns:
        ``(axes, flips)``: the stored axes that become (slices, rows, columns), and
        whether to reverse each of them afterwards (see :func:`to_canonical`).

    Example:
        >>> canonical_order(np.diag([1.0, 1.0, 1.0, 1.0])[:, [2, 0, 1, 3]] * [1, 1, 8, 1])
        ((2, 0, 1), (False, True, True))
    """
    directions = affine[:3, :3] / np.linalg.norm(affine[:3, :3], axis=0)
    z = slice_axis(affine, zooms)
    in_plane = [a for a in range(3) if a != z]
    best = max(
        product(permutations(in_plane), (1, -1), (1, -1)),
        key=lambda o: (
            o[1] * directions[:, o[0][0]] @ ROW_DIRECTION
            + o[2] * directions[:, o[0][1]] @ COL_DIRECTION
        ),
    )
    (row, col), row_sign, col_sign = best
    flip_slices = bool(directions[:, z] @ APEX_DIRECTION < 0)
    return (z, row, col), (flip_slices, row_sign < 0, col_sign < 0)


def to_canonical(
    array: np.ndarray, axes: tuple[int, int, int], flips: tuple[bool, bool, bool]
) -> np.ndarray:
    """Apply an order found by :func:`canonical_order` to a stored 3D array.

    Example:
        >>> to_canonical(np.zeros((4, 5, 2)), (2, 1, 0), (True, False, False)).shape
        (2, 5, 4)
    """
    out = array.transpose(axes)
    for axis, flip in enumerate(flips):
        if flip:
            out = np.flip(out, axis=axis)
    return np.ascontiguousarray(out)


def affine_problem(affine: np.ndarray) -> str | None:
    """What makes an affine unusable for orienting a volume, or None if it is fine.

    An affine whose 3x3 part is not finite, or is singular (an axis of zero length,
    two axes along one direction), says nothing about where the heart lies.

    Example:
        >>> affine_problem(np.eye(4)) is None, affine_problem(np.zeros((4, 4)))
        (True, 'its 3x3 part is singular (an axis of zero length, or two along one direction)')
    """
    matrix = np.asarray(affine, dtype=np.float64)[:3, :3]
    if not np.isfinite(matrix).all():
        return "it holds NaN or infinite values"
    if np.linalg.matrix_rank(matrix) < 3:
        return "its 3x3 part is singular (an axis of zero length, or two along one direction)"
    return None


def orientation_code(affine: np.ndarray) -> str:
    """Nibabel's axis codes of a stored volume (``"PSR"``), for display; ``"?"`` if unusable.

    Example:
        >>> orientation_code(np.eye(4)), orientation_code(np.zeros((4, 4)))
        ('RAS', '?')
    """
    import nibabel as nib

    if affine_problem(affine) is not None:
        return "?"
    return "".join(nib.aff2axcodes(affine))
