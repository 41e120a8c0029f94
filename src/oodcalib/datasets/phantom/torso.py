"""The torso around the heart: body wall, lungs, liver, stomach, spine and aorta.

The body wall (subcutaneous fat, chest-wall and paraspinal muscle) is the same on every
slice; the lungs shrink and the liver and stomach grow toward the apex (the diaphragm),
and the mediastinum around the heart follows the heart's size. Lung vessels, hepatic
vessels and patchy mediastinal fat come from smooth random fields, so the surroundings
carry texture rather than being flat blobs.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import gaussian_filter

from oodcalib.datasets.phantom.anatomy import Anatomy
from oodcalib.datasets.phantom.long_axis import Profile
from oodcalib.datasets.phantom.shapes import disc, ellipse, harmonics, paint, soft


def render_torso(
    anatomy: Anatomy, prof: Profile, x: np.ndarray, y: np.ndarray, px: float,
    values: dict[str, float], rng: np.random.Generator,
) -> np.ndarray:  # fmt: skip
    """Draw the torso (no heart) on every slice.

    Args:
        anatomy: The case's anatomy.
        prof: :func:`~oodcalib.datasets.phantom.long_axis.profile` at the slice centres.
        x: Heart-frame x (mm) of the pixels, ``(H, W)``.
        y: Heart-frame y of the pixels.
        px: Pixel size (mm).
        values: Tissue intensities (air is 0).
        rng: Generator of the random fields (vessels, mediastinal fat).

    Returns:
        ``(Z, H, W)`` float32 noise-free intensities.
    """
    a, v = anatomy, {k: np.float32(val) for k, val in values.items()}
    n = prof.t.shape[0]
    bx, by = a.body_xy
    ax, ay = a.body_axes
    sd_body = ellipse(x, y, bx, by, ax, ay, shape=a.body_shape)
    s_body = harmonics(x - bx, y - by)[2]
    sd_muscle = sd_body + a.fat_thickness * (1 + 0.4 * s_body)
    sd_thorax = sd_muscle + a.muscle_thickness
    sd_back = np.maximum(ellipse(x, y, bx, by + 0.85 * ay, 0.3 * ax, 0.3 * ay), sd_body + 3)
    canvas = np.zeros(x.shape, np.float32)
    for sd, tissue in ((sd_body, "fat"), (sd_muscle, "muscle"), (sd_thorax, "soft"),
                       (sd_back, "muscle")):  # fmt: skip
        paint(canvas, soft(sd, px), v[tissue])
    sx, sy = a.spine_xy
    sd_spine = disc(x, y, sx, sy, a.spine_radius)
    paint(canvas, soft(sd_spine, px), v["bone"])
    paint(canvas, soft(disc(x, y, sx, sy + 1.45 * a.spine_radius, 0.4 * a.spine_radius), px),
          v["fluid"])  # spinal canal  # fmt: skip
    paint(canvas, soft(disc(x, y, *a.aorta_xy, a.aorta_radius), px), v["aorta"])
    image = np.repeat(canvas[None], n, axis=0)
    inside = np.flatnonzero((sd_body < 0).any(axis=1)), np.flatnonzero((sd_body < 0).any(axis=0))
    if inside[0].size == 0 or inside[1].size == 0:
        return image
    box = tuple(slice(int(i[0]), int(i[-1]) + 1) for i in inside)  # the body's bounding box
    x, y, sd_thorax, sd_spine = x[box], y[box], sd_thorax[box], sd_spine[box]
    _organs(image[:, box[0], box[1]], a, prof, x, y, px, v, rng, sd_thorax, sd_spine)
    return image


def _organs(
    image: np.ndarray, a: Anatomy, prof: Profile, x: np.ndarray, y: np.ndarray, px: float,
    v: dict[str, np.float32], rng: np.random.Generator, sd_thorax: np.ndarray,
    sd_spine: np.ndarray,
) -> None:  # fmt: skip
    """Paint the organs that change from slice to slice, in place."""
    t = np.clip(prof.t, 0, 1)
    bx, by = a.body_xy
    ax, ay = a.body_axes
    sx, sy = a.spine_xy
    noise = rng.standard_normal((3, *x.shape)).astype(np.float32)
    blobs = np.stack([gaussian_filter(noise[0], 2.0 / px), gaussian_filter(noise[1], 6.0 / px),
                      gaussian_filter(noise[2], 3.0 / px)])  # fmt: skip
    blobs /= blobs.std(axis=(1, 2), keepdims=True)
    # mediastinum: the heart's footprint at each slice and a column down to the spine
    off = 0.4 * a.rv_depth
    reach = np.maximum(prof.r_epi, 0.6 * a.lv_radius) + 8 + 0.4 * prof.rv_depth
    d_heart = disc(x, y, off * math.cos(a.rv_angle), off * math.sin(a.rv_angle), 0.0)
    column = ellipse(x, y, sx / 2, sy / 2, math.hypot(sx, sy) / 2, 0.5 * a.lv_radius + 10,
                     math.atan2(sy, sx))  # fmt: skip
    sd_med = np.minimum(d_heart - reach, column)  # (Z, H, W)
    fat = np.minimum(soft(0.6 - blobs[1], 0.4), soft(sd_med, 3.2))
    paint(image, fat, v["fat"])
    outside_med = soft(-sd_med, px)
    lung = np.zeros_like(image)
    shrink = 1 - (a.lung_scale[0] + (a.lung_scale[1] - a.lung_scale[0]) * t)
    wall = soft(np.maximum(sd_thorax + 2, 6 - sd_spine), px)
    for side, (ox, oy, ex, ey) in ((-1, (0.45, -0.05, 0.47, 0.75)), (1, (0.45, 0.0, 0.45, 0.72))):
        sd = ellipse(x, y, bx + side * ox * ax, by + oy * ay, ex * ax, ey * ay) / np.float32(px)
        m = np.clip(0.5 - shrink * np.float32(min(ex * ax, ey * ay) / px) - sd, 0, 1)
        np.maximum(lung, np.minimum(m, wall), out=lung)
    lung *= outside_med
    paint(image, lung, v["lung"])
    paint(image, lung * np.clip((blobs[0] - 2.0) / 0.3, 0, 1), v["vessel"])
    shrink = 1 - (a.liver_scale[0] + (a.liver_scale[1] - a.liver_scale[0]) * t)
    sd = ellipse(x, y, bx - 0.3 * ax, by + 0.5 * ay, 0.6 * ax, 0.5 * ay, 0.3) / np.float32(px)
    m_liver = np.clip(0.5 - shrink * np.float32(0.5 * ay / px) - sd, 0, 1)
    m_liver *= np.minimum(soft(sd_thorax, px), soft(4 - sd_med, px))
    paint(image, m_liver, v["liver"])
    paint(image, m_liver * np.clip((blobs[2] - 1.8) / 0.4, 0, 1), v["vessel"])
    _stomach(image, a, prof, x, y, px, sd_thorax, v)


def _stomach(
    image: np.ndarray, anatomy: Anatomy, prof: Profile, x: np.ndarray, y: np.ndarray,
    px: float, sd_thorax: np.ndarray, v: dict[str, np.float32],
) -> None:  # fmt: skip
    """Paint the stomach (wall, fluid, sometimes gas on top) below the diaphragm, in place."""
    cx, cy, radius, appear, gas = anatomy.stomach
    grow = np.sqrt(np.clip((prof.t - appear) / (1 - appear) * 1.5, 0, 1))
    shown = np.flatnonzero(grow.ravel() > 0)
    if shown.size == 0:
        return
    first, grow = int(shown[0]), grow[shown[0] :]
    sub = image[first:]
    d = disc(x, y, cx, cy, 0.0)
    inside = soft(sd_thorax, px)
    r = radius * grow
    paint(sub, np.minimum(soft(d - r, px), inside), v["soft"])
    lumen = np.minimum(soft(d - r + 3, px), inside)
    paint(sub, lumen, v["fluid"])
    level = cy - r * (1 - 2 * gas)  # air-fluid level: gas on top (anterior)
    paint(sub, lumen * (y < level), v["lung"])
