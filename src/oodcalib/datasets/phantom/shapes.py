"""Signed-distance primitives the phantom is drawn with (mm, negative inside).

Shapes are approximate signed distance fields on a pixel grid: polar (star-shaped)
contours with low-order Fourier perturbations, ellipses, discs and capsules. A shape's
partial-volume membership on a grid of pixel size ``px`` is :func:`soft`, and tissues are
composited in painting order with :func:`paint`.
"""

from __future__ import annotations

import math

import numpy as np

#: A length or coordinate: a number, or an array broadcasting against the pixel grid.
Coord = float | np.ndarray


def harmonics(dx: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, ...]:
    """``r`` and ``cos kt, sin kt`` (k = 1..4) of the polar angle ``t`` of ``(dx, dy)``.

    Example:
        >>> r, c, s, *_ = harmonics(np.array([0.0, 3.0]), np.array([2.0, 0.0]))
        >>> r.tolist(), c.round(3).tolist(), s.round(3).tolist()
        ([2.0, 3.0], [0.0, 1.0], [1.0, 0.0])
    """
    r = np.sqrt(dx * dx + dy * dy)
    inv = 1 / np.maximum(r, np.float32(1e-3))
    c, s = dx * inv, dy * inv
    c2, s2 = c * c - s * s, 2 * c * s
    c3, s3 = c * c2 - s * s2, s * c2 + c * s2
    return r, c, s, c2, s2, c3, s3, c2 * c2 - s2 * s2, 2 * c2 * s2


def fourier(harm: tuple[np.ndarray, ...], coefs: tuple[float, ...]) -> np.ndarray:
    """Sum of ``coefs`` times the harmonics from k = 2 (``cos 2t, sin 2t, cos 3t, ...``)."""
    return sum(np.float32(w) * h for w, h in zip(coefs, harm[3:], strict=False))


def ellipse(
    x: np.ndarray, y: np.ndarray, cx: Coord, cy: Coord, a: Coord, b: Coord,
    angle: float = 0.0, shape: tuple[float, ...] | None = None,
) -> np.ndarray:  # fmt: skip
    """Approximate signed distance to an ellipse (semi-axes ``a, b`` rotated by ``angle``).

    ``shape`` optionally perturbs the boundary with Fourier coefficients (k = 2..4) of the
    polar angle about the centre.

    Example:
        >>> x = np.array([0.0, 5.0, 10.0]); y = np.zeros(3)
        >>> ellipse(x, y, 0, 0, 5, 2).round(3).tolist()
        [-2.0, 0.0, 5.0]
    """
    dx, dy = x - cx, y - cy
    ca, sa = np.float32(math.cos(angle)), np.float32(math.sin(angle))
    u, v = (dx * ca + dy * sa) / a, (dy * ca - dx * sa) / b
    rho = np.sqrt(u * u + v * v)
    r = np.sqrt(dx * dx + dy * dy)
    rb = r / np.maximum(rho, np.float32(1e-4))
    rb = np.where(rho > 1e-4, rb, np.float32(min(a, b)))
    bound: float | np.ndarray = 1.0
    if shape is not None:
        bound = 1 + fourier(harmonics(dx, dy), shape)
    return (rho - bound) * rb


def disc(x: np.ndarray, y: np.ndarray, cx: Coord, cy: Coord, radius: Coord) -> np.ndarray:
    """Signed distance to a disc."""
    return np.sqrt((x - cx) ** 2 + (y - cy) ** 2) - radius


def capsule(
    x: np.ndarray, y: np.ndarray, p: tuple[Coord, Coord], q: tuple[Coord, Coord], radius: Coord
) -> np.ndarray:
    """Signed distance to the segment ``p``-``q`` thickened by ``radius`` (arrays broadcast).

    Example:
        >>> x, y = np.array([0.0, 5.0, 5.0]), np.array([0.0, 0.0, 3.0])
        >>> capsule(x, y, (0, 0), (10, 0), 1).round(6).tolist()
        [-1.0, -1.0, 2.0]
    """
    ex, ey = q[0] - p[0], q[1] - p[1]
    inverse = 1 / np.maximum(ex * ex + ey * ey, np.float32(1e-6))
    h = np.clip(((x - p[0]) * ex + (y - p[1]) * ey) * inverse, 0, 1)
    return np.sqrt((x - p[0] - h * ex) ** 2 + (y - p[1] - h * ey) ** 2) - radius


def soft(sd: np.ndarray, px: float) -> np.ndarray:
    """Partial-volume membership of a shape from its signed distance (one-pixel ramp)."""
    m = sd * np.float32(-1 / px)
    m += np.float32(0.5)
    return np.clip(m, np.float32(0), np.float32(1), out=m)


def paint(image: np.ndarray, m: np.ndarray, value: float | np.floating) -> None:
    """Composite ``value`` with membership ``m`` onto ``image``, in place."""
    change = np.subtract(np.float32(value), image, dtype=np.float32)
    change *= m
    image += change


def sector(c: np.ndarray, s: np.ndarray, angle: float, half_width: float) -> np.ndarray:
    """Soft angular sector of half width ``half_width`` about ``angle`` (from cos, sin)."""
    cos_diff = c * np.float32(math.cos(angle)) + s * np.float32(math.sin(angle))
    return np.clip((cos_diff - np.float32(math.cos(half_width))) * np.float32(10), 0, 1)
