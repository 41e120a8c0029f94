"""Anatomy of the synthetic short-axis phantom: random shapes in mm and their sampling.

A heart (LV blood pool with papillary muscles and trabeculae in a myocardial ring, RV
crescent on the image left, atria and aortic root above the atrioventricular plane) sits in
a torso (body contour, subcutaneous fat, chest-wall muscle, lungs, liver, stomach, spine,
descending aorta). Everything is in mm in the *heart frame*: the origin is the LV centre
at the atrioventricular (AV) plane, ``z`` runs from the base (0) to the apex
(``lv_length``), ``x`` to the image right (patient left) and ``y`` down (posterior). Where
the heart sits in the image, its in-plane rotation and the slices are drawn separately
(:mod:`oodcalib.datasets.phantom.geometry`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Anatomy:
    """Sampled parameters of one phantom case (mm and radians; JSON-serialisable).

    Attributes:
        scale: Heart size factor (already applied to the heart's lengths below).
        lv_radius: Endocardial radius at the base.
        wall: Myocardial wall thickness.
        lv_length: Base (AV plane) to apex of the LV cavity.
        apex_power: Exponent ``p`` of the LV profile ``r(t) = R sqrt(1 - t^p)``.
        endo_shape: Fourier coefficients (cos, sin for k = 2, 3, 4) of the endocardium.
        epi_shape: Same for the epicardium.
        drift_xy: Displacement of the LV centre from base to apex.
        rv_angle: Direction from the LV centre to the RV (about pi: image left).
        rv_depth: Thickness of the RV crescent at the base.
        rv_width: Lateral half-extent of the RV, relative to the LV epicardial radius.
        rv_end: Fraction of the LV length where the RV vanishes.
        rv_wall: Thickness of the (unlabelled) RV free wall.
        rv_shape: Fourier coefficients of the RV boundary.
        av_plane: ``(tilt, angle)``: the AV plane rises by ``tilt`` mm per mm toward the
            in-plane direction ``angle`` (posterior: the atria lie behind the ventricles).
        la: ``(distance, radius)`` of the left atrium along the AV-plane direction.
        ra: ``(x, y, radius, z top)`` of the right atrium (above the tricuspid valve).
        aortic_root: ``(angle, distance, radius, valve z, LVOT height)``.
        papillary: ``(angle, radial fraction, radius, t first, t last)`` per muscle.
        trabeculae: ``(count, phase, depth, strength)`` of the endocardial trabeculation.
        epi_fat: ``(thickness, lobes, phase)`` of the epicardial fat.
        body_xy: Body centre.
        body_axes: Semi-axes of the body contour.
        body_shape: Fourier coefficients of the body contour.
        fat_thickness: Subcutaneous fat thickness.
        muscle_thickness: Chest-wall muscle thickness.
        lung_scale: Lung size factor at the base and at the apex.
        liver_scale: Liver size factor at the base and at the apex.
        stomach: ``(x, y, radius, t appears, gas fraction)``.
        spine_xy: Vertebral body centre.
        spine_radius: Vertebral body radius.
        aorta_xy: Descending aorta centre.
        aorta_radius: Descending aorta radius.
        scar: ``(angle, half_width, depth fraction, t first, t last)`` or None.
        thinning: ``(angle, half_width, fraction, t first, t last)`` of a thinned wall
            sector, or None.
        phenotype: Pathology group
            (:data:`~oodcalib.datasets.phantom.phenotype.PHENOTYPES`).
    """

    scale: float
    lv_radius: float
    wall: float
    lv_length: float
    apex_power: float
    endo_shape: tuple[float, ...]
    epi_shape: tuple[float, ...]
    drift_xy: tuple[float, float]
    rv_angle: float
    rv_depth: float
    rv_width: float
    rv_end: float
    rv_wall: float
    rv_shape: tuple[float, ...]
    av_plane: tuple[float, float]
    la: tuple[float, float]
    ra: tuple[float, float, float, float]
    aortic_root: tuple[float, float, float, float, float]
    papillary: tuple[tuple[float, float, float, float, float], ...]
    trabeculae: tuple[float, float, float, float]
    epi_fat: tuple[float, float, float]
    body_xy: tuple[float, float]
    body_axes: tuple[float, float]
    body_shape: tuple[float, ...]
    fat_thickness: float
    muscle_thickness: float
    lung_scale: tuple[float, float]
    liver_scale: tuple[float, float]
    stomach: tuple[float, float, float, float, float]
    spine_xy: tuple[float, float]
    spine_radius: float
    aorta_xy: tuple[float, float]
    aorta_radius: float
    scar: tuple[float, float, float, float, float] | None
    thinning: tuple[float, float, float, float, float] | None = None
    phenotype: str = "normal"

    def to_meta(self) -> dict:
        """Return the parameters as a plain, JSON-serialisable dict."""
        return asdict(self)

    @property
    def extent(self) -> float:
        """Radius (mm) around the LV axis that holds every labelled structure."""
        return self.lv_radius + self.wall + self.rv_depth + 8 + math.hypot(*self.drift_xy)


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
        >>> 13 <= a.lv_radius <= 30 and 0.8 <= a.scale <= 1.2 and a.scar is None
        True
    """

    def u(low: float, high: float) -> float:
        return round(float(rng.uniform(low, high)), 4)

    s = u(0.8, 1.2)
    lv_radius, wall = round(u(16, 25) * s, 4), round(u(8, 12) * s, 4)
    epi = lv_radius + wall
    ellipse = (u(0, 0.12), u(0, math.pi))  # a k = 2 term: an elliptic LV
    endo = _shape(rng, 0.07)
    endo = (endo[0] + ellipse[0] * math.cos(2 * ellipse[1]),
            endo[1] + ellipse[0] * math.sin(2 * ellipse[1]), *endo[2:])  # fmt: skip
    rv_angle = math.pi + u(0.1, 0.45) + u(-0.15, 0.15)  # image left, slightly anterior
    av_angle = math.pi / 2 - u(-0.2, 0.6)  # posterior, toward the patient's left
    rv_x, rv_y = math.cos(rv_angle), math.sin(rv_angle)
    ra_reach, ra_back = epi + u(5, 15) * s, u(8, 22) * s
    ra = (round(rv_x * ra_reach, 3), round(rv_y * ra_reach + ra_back, 3),
          round(u(15, 22) * s, 4), u(-2, 10))  # fmt: skip
    lv_length = round(u(60, 85) * s, 4)
    aortic = (round(rv_angle + u(0.6, 1.0), 4), round(u(0.5, 0.8) * epi, 4),
              round(u(10, 14) * s, 4), u(-8, 0), round(u(0.1, 0.2) * lv_length, 4))  # fmt: skip
    opposite = rv_angle + math.pi  # papillary muscles face the septum
    papillary = tuple(
        (round(opposite + side * u(0.6, 1.1), 4), u(0.45, 0.7), round(u(3, 5.5) * s, 4),
         u(0.08, 0.25), u(0.68, 0.85))
        for side in (-1, 1)
    )  # fmt: skip
    body_axes = (u(135, 175), u(95, 125))
    body = (-u(20, 40), body_axes[1] - u(66, 82))
    spine = (body[0] + u(-8, 8), body[1] + 0.55 * body_axes[1])
    spine_radius, aorta_radius = u(14, 18), u(9, 13)
    aorta = (spine[0] + u(18, 30), spine[1] - spine_radius - u(4, 12))
    gap = math.hypot(*aorta) - (epi + aorta_radius + 6)  # keep the aorta clear of the heart
    if gap < 0:
        push = 1 - gap / math.hypot(*aorta)
        aorta = (aorta[0] * push, aorta[1] * push)
    stomach = (round(body[0] + u(0.3, 0.5) * body_axes[0], 3),
               round(body[1] + u(0.0, 0.3) * body_axes[1], 3), u(18, 35), u(0.55, 0.9),
               u(0.0, 0.35) if rng.uniform() < 0.5 else 0.0)  # fmt: skip
    scar = None
    if rng.uniform() < scar_probability:
        first = u(0.05, 0.7)
        depth = 1.0 if rng.uniform() < 0.5 else u(0.35, 0.7)
        scar = (u(0, 2 * math.pi), u(0.35, 0.9), depth, first, u(first + 0.2, 0.95))
    return Anatomy(
        scale=s,
        lv_radius=lv_radius,
        wall=wall,
        lv_length=lv_length,
        apex_power=u(1.7, 2.8),
        endo_shape=tuple(round(float(c), 5) for c in endo),
        epi_shape=_shape(rng, 0.05),
        drift_xy=(u(-6, 6), u(-6, 6)),
        rv_angle=round(rv_angle, 4),
        rv_depth=round(u(16, 28) * s, 4),
        rv_width=u(1.15, 1.5),
        rv_end=u(0.6, 0.85),
        rv_wall=u(2, 4),
        rv_shape=_shape(rng, 0.1),
        av_plane=(u(0.15, 0.4), round(av_angle, 4)),
        la=(round(u(0.5, 0.85) * epi, 4), round(u(16, 24) * s, 4)),
        ra=ra,
        aortic_root=aortic,
        papillary=papillary,
        trabeculae=(
            float(rng.integers(10, 20)),
            u(0, 2 * math.pi),
            round(u(2, 4.5) * s, 4),
            u(0.4, 0.9),
        ),
        epi_fat=(u(2, 7), float(rng.integers(2, 4)), u(0, 2 * math.pi)),
        body_xy=(round(body[0], 3), round(body[1], 3)),
        body_axes=body_axes,
        body_shape=_shape(rng, 0.05),
        fat_thickness=u(6, 22),
        muscle_thickness=u(8, 15),
        lung_scale=(u(0.8, 0.95), u(0.5, 0.75)),
        liver_scale=(u(0.3, 0.6), u(0.9, 1.15)),
        stomach=stomach,
        spine_xy=(round(spine[0], 3), round(spine[1], 3)),
        spine_radius=spine_radius,
        aorta_xy=(round(aorta[0], 3), round(aorta[1], 3)),
        aorta_radius=aorta_radius,
        scar=scar,
    )
