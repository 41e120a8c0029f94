"""Anatomy of the synthetic short-axis phantom: random shapes in mm and their sampling.

A heart (LV blood pool in a myocardial ring, RV crescent on the image left) sits in a
torso (body contour, subcutaneous fat, chest-wall muscle, lungs, liver, spine, aorta). All
sizes are physical (mm). :func:`render_anatomy` draws them on a pixel grid as signed
distance fields (negative inside) with a one-pixel partial-volume ramp at each boundary.
Image axes: ``x`` to the image right (patient left), ``y`` down (posterior).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage
from scipy.ndimage import gaussian_filter


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


# --------------------------------------------------------------------------- drawing

#: Tissue classes the renderer paints, each needing an intensity value.
TISSUES: tuple[str, ...] = (
    "fat", "muscle", "soft", "lung", "vessel", "liver", "bone", "aorta",
    "rv_wall", "myo", "papillary", "blood_lv", "blood_rv", "scar",
)  # fmt: skip


def _ellipse(x, y, cx, cy, a, b, angle: float = 0.0):
    """Normalised elliptic radius ``rho`` and boundary radius along each ray ``rb``.

    ``(rho - s) * rb`` is then an (approximate) signed distance to the ellipse scaled by s.
    """
    dx, dy = x - cx, y - cy
    ca, sa = math.cos(angle), math.sin(angle)
    u, v = (dx * ca + dy * sa) / a, (dy * ca - dx * sa) / b
    rho = np.sqrt(u * u + v * v)
    r = np.sqrt(dx * dx + dy * dy)
    rb = np.where(rho > 1e-6, r / np.maximum(rho, 1e-6), np.minimum(a, b, dtype=np.float32))
    return rho, rb


def _harmonics(dx, dy) -> tuple[np.ndarray, ...]:
    """``cos, sin`` of the polar angle and ``cos kt, sin kt`` for k = 2, 3, 4."""
    r = np.maximum(np.sqrt(dx * dx + dy * dy), 1e-6)
    c, s = dx / r, dy / r
    c2, s2 = c * c - s * s, 2 * c * s
    c3, s3 = c * c2 - s * s2, s * c2 + c * s2
    return c, s, c2, s2, c3, s3, c2 * c2 - s2 * s2, 2 * c2 * s2


def _fourier(harmonics, coefs) -> np.ndarray:
    """Relative radius perturbation from the k = 2..4 harmonics."""
    return sum(w * h for w, h in zip(coefs, harmonics[2:], strict=True))


def _soft(sd, pixel: float) -> np.ndarray:
    """Partial-volume membership of a shape from its signed distance (one-pixel ramp)."""
    return np.clip(0.5 - sd / pixel, 0.0, 1.0)


def _paint(image, label, m, value: float, cls: int | None = None) -> None:
    """Composite ``value`` with membership ``m`` onto ``image``; relabel where m > 0.5."""
    image += m * (np.float32(value) - image)
    if cls is not None:
        label[np.broadcast_to(m > 0.5, label.shape)] = cls


def render_anatomy(
    anatomy: Anatomy, values: dict[str, float], size: int, spacing: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Draw an anatomy as a noise-free intensity stack and its label map.

    Args:
        anatomy: The shapes to draw.
        values: Intensity of each tissue in :data:`TISSUES` (air is 0).
        size: Image height and width in pixels.
        spacing: Pixel size in mm.
        rng: Generator for the small random structures (lung vessels, mediastinal fat).

    Returns:
        ``(image, label)``: float32 and uint8 ``(Z, size, size)`` arrays.
    """
    a, px = anatomy, float(spacing)
    n = a.n_slices
    t = np.linspace(0.0, 1.0, n, dtype=np.float32)[:, None, None]
    grid = (np.arange(size, dtype=np.float32) - (size - 1) / 2) * np.float32(px)
    x, y = grid[None, None, :], grid[None, :, None]
    image = np.zeros((n, size, size), np.float32)
    label = np.zeros((n, size, size), np.uint8)
    v = {k: np.float32(val) for k, val in values.items()}

    # ---- heart geometry (per slice)
    cx = np.float32(a.heart_xy[0]) + t * np.float32(a.drift_xy[0])
    cy = np.float32(a.heart_xy[1]) + t * np.float32(a.drift_xy[1])
    taper = np.sqrt(np.clip(1 - (a.apex_taper * t) ** 2, 0, 1))
    r_endo = a.lv_radius * (1 - 0.1 * t) * taper
    r_epi = r_endo + a.wall * (1 - 0.15 * t)
    dx, dy = x - cx, y - cy
    harm = _harmonics(dx, dy)
    cr, sr = math.cos(a.rotation), math.sin(a.rotation)
    e = np.float32(a.ellipticity)
    uu, vv = dx * cr + dy * sr, dy * cr - dx * sr
    q = np.sqrt(uu * uu * e + vv * vv / e)
    k = np.where(q > 1e-6, np.sqrt(dx * dx + dy * dy) / np.maximum(q, 1e-6), 1.0)
    sd_endo = (q - r_endo * (1 + _fourier(harm, a.endo_shape))) * k
    sd_epi = (q - r_epi * (1 + _fourier(harm, a.epi_shape))) * k
    sd_epi = np.minimum(sd_epi, sd_endo - 0.5 * (r_epi - r_endo))  # wall never vanishes
    cavity = (r_endo > 1.5).astype(np.float32)

    s_rv = np.clip(1 - t / a.rv_end, 0, 1) ** 0.6
    depth = a.rv_depth * s_rv
    has_rv = (depth > 3).astype(np.float32)
    near, far = -0.3 * r_epi, r_epi + depth
    half_w = r_epi * (0.9 + (a.rv_width - 0.9) * s_rv)
    ca, sa = math.cos(a.rv_angle), math.sin(a.rv_angle)
    mid = (near + far) / 2
    rho, rb = _ellipse(x, y, cx + ca * mid, cy + sa * mid, (far - near) / 2, half_w, a.rv_angle)
    sd_rv = (rho - 1 - _fourier(harm, a.rv_shape)) * rb
    sd_rv = np.where(has_rv > 0, sd_rv, np.float32(1e3))
    sd_heart = np.minimum(sd_epi, sd_rv - a.rv_wall)

    # ---- torso (fixed in-plane, lungs and liver change toward the apex)
    bx, by = a.body_xy
    rho, rb = _ellipse(x, y, bx, by, *a.body_axes)
    bharm = _harmonics(x - bx, y - by)
    sd_body = (rho - 1 - _fourier(bharm, a.body_shape)) * rb
    sd_muscle = sd_body + a.fat_thickness * (1 + 0.4 * bharm[1])
    sd_thorax = sd_muscle + a.muscle_thickness
    ax_, ay_ = a.body_axes
    rho, rb = _ellipse(x, y, bx, by + 0.85 * ay_, 0.3 * ax_, 0.3 * ay_)
    sd_back = np.maximum((rho - 1) * rb, sd_body + 3)  # paraspinal muscles
    canvas = image[:1].copy()  # the body wall is the same on every slice: paint it once
    for sd, tissue in ((sd_body, "fat"), (sd_muscle, "muscle"), (sd_thorax, "soft"),
                       (sd_back, "muscle")):  # fmt: skip
        _paint(canvas, label[:1], _soft(sd, px), v[tissue])
    image[:] = canvas
    sd_spine = np.hypot(x - a.spine_xy[0], y - a.spine_xy[1]) - a.spine_radius
    sd_aorta = np.hypot(x - a.aorta_xy[0], y - a.aorta_xy[1]) - a.aorta_radius
    # mediastinum: the heart's base-size footprint and a column down to the spine
    hx, hy = a.heart_xy
    reach = a.lv_radius + a.wall + 6
    off = 0.25 * a.rv_depth
    rho, rb = _ellipse(x, y, hx + off * ca, hy + off * sa, reach + off, reach, a.rv_angle)
    sd_med = (rho - 0.55 - 0.45 * taper) * rb  # shrinks with the heart toward the apex
    sx_, sy_ = a.spine_xy
    rho, rb = _ellipse(x, y, (hx + sx_) / 2, (hy + sy_) / 2, math.hypot(sx_ - hx, sy_ - hy) / 2,
                       0.6 * reach, math.atan2(sy_ - hy, sx_ - hx))  # fmt: skip
    sd_med = np.minimum(sd_med, (rho - 1) * rb)
    lung = np.zeros_like(image)
    for side, (ox, oy, sx, sy) in ((-1, (0.45, -0.05, 0.47, 0.75)), (1, (0.45, 0.0, 0.45, 0.72))):
        rho, rb = _ellipse(x, y, bx + side * ox * ax_, by + oy * ay_, sx * ax_, sy * ay_)
        scale = a.lung_scale[0] + (a.lung_scale[1] - a.lung_scale[0]) * t
        sd = np.maximum((rho - scale) * rb, sd_thorax + 2)
        sd = np.maximum(sd, np.maximum(6 - sd_spine, -sd_med))
        lung = np.maximum(lung, _soft(np.maximum(sd, 4 - sd_heart), px))
    noise = rng.standard_normal((2, size, size)).astype(np.float32)
    blobs = np.stack([gaussian_filter(noise[0], 2.5 / px), gaussian_filter(noise[1], 6 / px)])
    blobs /= blobs.std(axis=(1, 2), keepdims=True)
    fat = _soft(np.maximum(0.8 - blobs[1], sd_med / 10), 0.4)  # patchy mediastinal fat
    _paint(image, label, fat, v["fat"])
    _paint(image, label, lung, v["lung"])
    _paint(image, label, lung * np.clip((blobs[0] - 2.0) / 0.3, 0, 1), v["vessel"])
    rho, rb = _ellipse(x, y, bx - 0.3 * ax_, by + 0.5 * ay_, 0.6 * ax_, 0.5 * ay_, 0.3)
    scale = a.liver_scale[0] + (a.liver_scale[1] - a.liver_scale[0]) * t
    _paint(image, label, _soft(np.maximum((rho - scale) * rb, sd_thorax), px), v["liver"])
    _paint(image, label, _soft(sd_spine, px), v["bone"])
    _paint(image, label, _soft(sd_aorta, px), v["aorta"])

    # ---- heart, outside in
    th, lobes, phase = a.epi_fat
    lobe = harm[2:4] if lobes == 2 else harm[4:6]
    fat = th * np.clip(0.3 + lobe[0] * math.cos(phase) - lobe[1] * math.sin(phase), 0, 1.3)
    _paint(image, label, _soft(sd_heart - fat, px), v["fat"])
    _paint(image, label, _soft(sd_rv - a.rv_wall, px) * has_rv, v["rv_wall"])
    _paint(image, label, _soft(sd_rv, px) * has_rv, v["blood_rv"], 1)
    m_epi = _soft(sd_epi, px)
    _paint(image, label, m_epi, v["myo"], 2)
    m_endo = _soft(sd_endo, px) * cavity
    _paint(image, label, m_endo, v["blood_lv"], 3)
    _trabeculate(image, sd_endo, m_endo, a.trabeculae, v["papillary"], dx, dy)
    rv_cav = _soft(sd_rv, px) * has_rv * (1 - m_epi)
    _trabeculate(image, sd_rv, rv_cav, a.trabeculae, v["rv_wall"], dx, dy)
    for angle, frac, radius in a.papillary:
        px_, py_ = cx + frac * r_endo * math.cos(angle), cy + frac * r_endo * math.sin(angle)
        present = ((t > 0.12) & (t < 0.88) & (r_endo > 12)).astype(np.float32)
        sd = np.hypot(x - px_, y - py_) - radius * np.sqrt(r_endo / a.lv_radius)
        _paint(image, label, _soft(sd, px) * present * m_endo, v["papillary"], 3)
    ring = m_epi * (1 - m_endo)
    if a.basal_gap is not None:
        sector = _sector([h[:1] for h in harm], *a.basal_gap)
        _paint(image[:1], label[:1], ring[:1] * sector, v["blood_lv"], 0)
    if a.scar is not None:
        angle, half, frac, first, last = a.scar
        m = ring * _sector(harm, angle, half)
        if frac < 1:
            m = m * _soft(sd_endo - frac * a.wall, px)
        _paint(image[first : last + 1], label, m[first : last + 1], v["scar"])
    for labels in label:  # drop RV slivers cut off (4-connectivity) at the septal insertions
        parts, count = ndimage.label(labels == 1)
        if count > 1:
            labels[(parts > 0) & (parts != np.bincount(parts[parts > 0]).argmax())] = 0
    return image, label


def _sector(harm, angle: float, half_width: float) -> np.ndarray:
    """Soft angular sector around the LV centre."""
    cos_diff = harm[0] * math.cos(angle) + harm[1] * math.sin(angle)
    return np.clip((cos_diff - math.cos(half_width)) / 0.1, 0, 1)


def _trabeculate(image, sd, m, params, value, dx, dy) -> None:
    """Darken a thin comb-like band inside a blood pool's boundary (label unchanged)."""
    count, phase, depth = params
    band = (sd > -depth) & (m > 0)
    if not band.any():
        return
    dxb, dyb = np.broadcast_to(dx, band.shape)[band], np.broadcast_to(dy, band.shape)[band]
    comb = (0.5 + 0.5 * np.cos(count * np.arctan2(dyb, dxb) + phase)) ** 3
    weight = 0.8 * comb * (1 + sd[band] / depth) * m[band]
    image[band] += weight * (value - image[band])
