"""Rendering of the phantom anatomy: an :class:`Anatomy` drawn as label and tissue maps.

:func:`render_anatomy` draws the shapes of an
:class:`~oodcalib.datasets.phantom.anatomy.Anatomy` on a pixel grid as signed distance
fields (negative inside) with a one-pixel partial-volume ramp at each boundary.
Image axes: ``x`` to the image right (patient left), ``y`` down (posterior).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage
from scipy.ndimage import gaussian_filter

from oodcalib.datasets.phantom.anatomy import Anatomy

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
