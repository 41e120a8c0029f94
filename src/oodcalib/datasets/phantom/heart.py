"""The heart's image: its tissues composited over the torso, at any set of depths.

Outside in: epicardial fat, atria and aortic root (thin walls, bright blood), the RV (free
wall, blood, trabeculation), the LV (myocardium, blood pool, trabeculation and papillary
muscles, which look like myocardium), the outflow tract opening the basal ring and, in
LGE, the scar. The label is drawn separately (:mod:`oodcalib.datasets.phantom.observer`).
"""

from __future__ import annotations

import math

import numpy as np

from oodcalib.datasets.phantom.anatomy import Anatomy
from oodcalib.datasets.phantom.long_axis import Profile, cross_section
from oodcalib.datasets.phantom.shapes import capsule, disc, paint, sector, soft


def render_heart(
    anatomy: Anatomy, prof: Profile, x: np.ndarray, y: np.ndarray, px: float,
    values: dict[str, float], image: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Paint the heart onto ``image`` in place and return its blood-pool membership.

    Args:
        anatomy: The heart.
        prof: :func:`~oodcalib.datasets.phantom.long_axis.profile` at ``(Z, K)`` depths.
        x: Heart-frame x (mm) of the pixels, ``(H, W)``.
        y: Heart-frame y of the pixels.
        px: Pixel size (mm), the width of the partial-volume ramp.
        values: Tissue intensities.
        image: ``(Z, K, H, W)`` float32 background (the torso), painted over.

    Returns:
        ``(Z, K, H, W)`` float32 membership of flowing blood (cavities, atria, aorta).
    """
    a, v = anatomy, values
    sec = cross_section(a, prof, x, y)
    harm, b = sec["harm"], sec["basal"]
    base, wall_a = image[:b], np.float32(2.0)  # the basal slabs; atrial and aortic walls
    thick, lobes, phase = a.epi_fat
    lobe = harm[3:5] if lobes == 2 else harm[5:7]
    fat = thick * np.clip(0.3 + lobe[0] * math.cos(phase) - lobe[1] * math.sin(phase), 0, 1.3)
    outline = np.minimum(sec["epi"], sec["rv"] - a.rv_wall)
    for name in ("la", "ra", "aorta"):
        np.minimum(outline[:b], sec[name] - wall_a, out=outline[:b])
    np.minimum(outline[:b], sec["lvot"], out=outline[:b])
    paint(image, soft(outline - fat, px), v["fat"])
    blood = np.zeros_like(image)
    for name in ("la", "ra"):
        paint(base, soft(sec[name] - wall_a, px), v["rv_wall"])
        m = soft(sec[name], px)
        paint(base, m, v["atrium"])
        np.maximum(blood[:b], m, out=blood[:b])
    paint(image, soft(sec["rv"] - a.rv_wall, px), v["rv_wall"])
    m_rv = soft(sec["rv"], px)
    paint(image, m_rv, v["blood_rv"])
    m_epi = soft(sec["epi"], px)
    paint(image, m_epi, v["myo"])
    m_endo = soft(sec["endo"], px)
    paint(image, m_endo, v["blood_lv"])
    count, phase, depth, strength = a.trabeculae
    angle = np.arctan2(y, x)  # about the LV axis at the base: the comb need not follow drift
    comb = (0.5 + 0.5 * np.cos(count * angle + phase)) ** 3
    lv_depth = np.minimum(depth, 0.25 * prof.r_endo) + np.float32(1e-3)  # small cavities
    _trabeculate(image, sec["endo"], m_endo, comb, lv_depth, strength, v["papillary"])
    rv_cavity = m_rv * (1 - m_epi)
    comb = (0.5 + 0.5 * np.cos(0.6 * count * angle + phase)) ** 3
    _trabeculate(image, sec["rv"], rv_cavity, comb, depth, 0.6, v["rv_wall"])
    pap = _papillary(a, prof, x, y, px) * m_endo
    paint(image, pap, v["papillary"])
    m_lvot = soft(sec["lvot"], px) * (1 - m_rv[:b])
    paint(base, m_lvot, v["blood_lv"])
    paint(base, soft(sec["aorta"] - wall_a, px), v["rv_wall"])
    m_ao = soft(sec["aorta"], px)
    paint(base, m_ao, v["aorta"])
    if a.scar is not None:
        angle, half, frac, first, last = a.scar
        m = m_epi * (1 - m_endo) * sector(harm[1], harm[2], angle, half)
        if frac < 1:
            m = m * soft(sec["endo"] - frac * a.wall, px)
        paint(image, m * ((prof.t >= first) & (prof.t <= last)), v["scar"])
    np.maximum(blood, rv_cavity, out=blood)
    np.maximum(blood, m_endo * (1 - pap), out=blood)
    np.maximum(blood[:b], np.maximum(m_lvot, m_ao), out=blood[:b])
    return blood


def _papillary(
    anatomy: Anatomy, prof: Profile, x: np.ndarray, y: np.ndarray, px: float
) -> np.ndarray:
    """Membership of the papillary muscles: a head in the cavity on a stalk to the wall.

    Drawn once per slab (at its mean cavity radius) and present at the depths between
    each muscle's first and last ``t``.
    """
    a = anatomy
    r_endo = prof.r_endo.mean(axis=1, keepdims=True) if prof.t.ndim == 4 else prof.r_endo
    scale = np.sqrt(r_endo / a.lv_radius)
    out = np.zeros(np.broadcast_shapes(prof.t.shape, x.shape), np.float32)
    for angle, frac, radius, first, last in a.papillary:
        present = ((prof.t >= first) & (prof.t <= last) & (prof.r_endo > 8)).astype(np.float32)
        if not present.any():
            continue
        ca, sa = np.float32(math.cos(angle)), np.float32(math.sin(angle))
        head = (prof.cx + frac * r_endo * ca, prof.cy + frac * r_endo * sa)
        foot = (prof.cx + r_endo * ca, prof.cy + r_endo * sa)
        sd = np.minimum(disc(x, y, *head, radius * scale),
                        capsule(x, y, head, foot, 0.45 * radius * scale))  # fmt: skip
        np.maximum(out, soft(sd, px) * present, out=out)
    return out


def _trabeculate(
    image: np.ndarray, sd: np.ndarray, m: np.ndarray, comb: np.ndarray,
    depth: float | np.ndarray, strength: float, value: float,
) -> None:  # fmt: skip
    """Pull a comb-like band (``depth`` mm, per slab) inside a pool's rim toward ``value``."""
    depth = np.broadcast_to(np.asarray(depth, np.float32), sd.shape[:-2] + (1, 1))
    band = (sd > -depth) & (m > 0)
    if not band.any():
        return
    weight = strength * np.broadcast_to(comb, band.shape)[band]
    weight *= np.clip(1 + sd[band] / np.broadcast_to(depth, band.shape)[band], 0, 1) * m[band]
    image[band] += weight * (np.float32(value) - image[band])
