"""Anatomy of the synthetic short-axis phantom: random shapes in mm and their sampling.

A heart (LV blood pool in a myocardial ring, RV crescent on the image left) sits in a
torso (body contour, subcutaneous fat, chest-wall muscle, lungs, liver, spine, aorta). All
sizes are physical (mm); :func:`sample_anatomy` draws them as an :class:`Anatomy`, which
:func:`oodcalib.datasets.phantom.render.render_anatomy` turns into pixel maps.
Image axes: ``x`` to the image right (patient left), ``y`` down (posterior).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Anatomy:
    """Sampled parameters of one phantom case (mm and radians; JSON-serialisable).

    Attributes:
        n_slices: Number of short-axis slices, base (index 0) to apex.
        heart_xy: LV centre at the base, relative to the image centre.
        drift_xy: Displacement of the LV centre from base to apex.
        lv_radius: Mean endocardial radius at the base.
        wall: Myocardial wall thickness at the base.
        apex_taper: How fast the LV closes toward the apex (1 closes it at the last slice).
        ellipticity: Minor/major axis ratio of the LV.
        rotation: Orientation of the LV ellipse.
        endo_shape: Fourier coefficients (cos, sin for k = 2, 3, 4) of the endocardium.
        epi_shape: Same for the epicardium.
        rv_angle: Direction from the LV centre to the RV (about pi: image left).
        rv_depth: Thickness of the RV crescent at the base.
        rv_width: Lateral half-extent of the RV, relative to the LV epicardial radius.
        rv_end: Fraction of the base-apex distance where the RV vanishes.
        rv_wall: Thickness of the (unlabelled) RV free wall.
        rv_shape: Fourier coefficients of the RV boundary.
        basal_gap: ``(angle, half_width)`` of the open sector of the basal ring, or None.
        papillary: ``(angle, radial fraction, radius)`` of each papillary muscle.
        trabeculae: ``(count, phase, depth)`` of the endocardial trabeculation.
        epi_fat: ``(thickness, lobes, phase)`` of the epicardial fat.
        body_xy: Body centre, relative to the image centre.
        body_axes: Semi-axes of the body contour.
        body_shape: Fourier coefficients of the body contour.
        fat_thickness: Subcutaneous fat thickness.
        muscle_thickness: Chest-wall muscle thickness.
        lung_scale: Lung size factor at the base and at the apex.
        liver_scale: Liver size factor at the base and at the apex.
        spine_xy: Vertebral body centre.
        spine_radius: Vertebral body radius.
        aorta_xy: Descending aorta centre.
        aorta_radius: Descending aorta radius.
        scar: ``(angle, half_width, depth fraction, first slice, last slice)`` or None.
    """

    n_slices: int
    heart_xy: tuple[float, float]
    drift_xy: tuple[float, float]
    lv_radius: float
    wall: float
    apex_taper: float
    ellipticity: float
    rotation: float
    endo_shape: tuple[float, ...]
    epi_shape: tuple[float, ...]
    rv_angle: float
    rv_depth: float
    rv_width: float
    rv_end: float
    rv_wall: float
    rv_shape: tuple[float, ...]
    basal_gap: tuple[float, float] | None
    papillary: tuple[tuple[float, float, float], ...]
    trabeculae: tuple[float, float, float]
    epi_fat: tuple[float, float, float]
    body_xy: tuple[float, float]
    body_axes: tuple[float, float]
    body_shape: tuple[float, ...]
    fat_thickness: float
    muscle_thickness: float
    lung_scale: tuple[float, float]
    liver_scale: tuple[float, float]
    spine_xy: tuple[float, float]
    spine_radius: float
    aorta_xy: tuple[float, float]
    aorta_radius: float
    scar: tuple[float, float, float, int, int] | None

    def to_meta(self) -> dict:
        """Return the parameters as a plain, JSON-serialisable dict."""
        return asdict(self)


def _shape(rng: np.random.Generator, amplitude: float) -> tuple[float, ...]:
    """Low-order Fourier coefficients, decaying with the order k = 2, 3, 4."""
    return tuple(round(float(rng.normal(0.0, amplitude / k)), 5) for k in (2, 2, 3, 3, 4, 4))


def sample_anatomy(rng: np.random.Generator, *, scar_probability: float = 0.0) -> Anatomy:
    """Draw the anatomy of one case.

    Args:
        rng: Generator the parameters are drawn from (consumed).
        scar_probability: Probability of a myocardial scar (used for LGE).

    Returns:
        The sampled :class:`Anatomy`.

    Example:
        >>> a = sample_anatomy(np.random.default_rng(0))
        >>> 6 <= a.n_slices <= 12 and 20 <= a.lv_radius <= 28 and a.scar is None
        True
    """

    def u(low: float, high: float) -> float:
        return round(float(rng.uniform(low, high)), 4)

    n_slices = int(rng.integers(6, 13))
    radius, angle = 15.0 * math.sqrt(rng.uniform()), u(0, 2 * math.pi)  # heart jitter
    heart = (round(radius * math.cos(angle), 3), round(radius * math.sin(angle), 3))
    lv_radius, wall = u(20, 28), u(7, 11)
    epi = lv_radius + wall
    body_axes = (u(135, 175), u(95, 122))
    body = (heart[0] - u(20, 40), heart[1] + body_axes[1] - u(68, 82))
    spine = (body[0] + u(-8, 8), body[1] + 0.55 * body_axes[1])
    spine_radius = u(14, 18)
    aorta_radius = u(9, 13)
    aorta = (spine[0] + u(18, 30), spine[1] - spine_radius - u(4, 12))
    away = (aorta[0] - heart[0], aorta[1] - heart[1])  # keep the aorta clear of the heart
    gap = math.hypot(*away) - (epi + aorta_radius + 6)
    if gap < 0:
        aorta = tuple(p - gap * d / math.hypot(*away) for p, d in zip(aorta, away, strict=True))
    rv_angle = math.pi + u(0.1, 0.45) + u(-0.15, 0.15)  # image left, slightly anterior
    opposite = rv_angle + math.pi  # papillary muscles face the septum
    papillary = tuple(
        (round(opposite + side * u(0.7, 1.1), 4), u(0.5, 0.7), u(2.5, 4.5)) for side in (-1, 1)
    )
    scar = None
    if rng.uniform() < scar_probability:
        first = int(rng.integers(0, n_slices - 2))
        last = int(rng.integers(first + 1, n_slices))
        depth = 1.0 if rng.uniform() < 0.5 else u(0.35, 0.7)
        scar = (u(0, 2 * math.pi), u(0.35, 0.9), depth, first, last)
    return Anatomy(
        n_slices=n_slices,
        heart_xy=heart,
        drift_xy=(u(-4, 4), u(-4, 4)),
        lv_radius=lv_radius,
        wall=wall,
        apex_taper=u(0.85, 1.0),
        ellipticity=u(0.78, 1.0),
        rotation=u(0, math.pi),
        endo_shape=_shape(rng, 0.07),
        epi_shape=_shape(rng, 0.06),
        rv_angle=round(rv_angle, 4),
        rv_depth=u(18, 30),
        rv_width=u(1.15, 1.5),
        rv_end=u(0.65, 0.92),
        rv_wall=u(2, 4),
        rv_shape=_shape(rng, 0.1),
        basal_gap=(round(rv_angle + u(0.6, 1.2), 4), u(0.35, 0.7)) if rng.uniform() < 0.5 else None,
        papillary=papillary,
        trabeculae=(float(rng.integers(10, 20)), u(0, 2 * math.pi), u(2, 4)),
        epi_fat=(u(2, 7), float(rng.integers(2, 4)), u(0, 2 * math.pi)),
        body_xy=(round(body[0], 3), round(body[1], 3)),
        body_axes=body_axes,
        body_shape=_shape(rng, 0.05),
        fat_thickness=u(6, 20),
        muscle_thickness=u(8, 15),
        lung_scale=(u(0.95, 1.1), u(0.6, 0.85)),
        liver_scale=(u(0.3, 0.6), u(0.9, 1.15)),
        spine_xy=(round(spine[0], 3), round(spine[1], 3)),
        spine_radius=spine_radius,
        aorta_xy=(round(aorta[0], 3), round(aorta[1], 3)),
        aorta_radius=aorta_radius,
        scar=scar,
    )
