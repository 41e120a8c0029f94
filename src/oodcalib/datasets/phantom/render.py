"""Rendering of one phantom case on its pixel grid: image, label and blood maps.

:func:`render_anatomy` maps the pixel grid into the heart frame (the scan geometry's
rotation and heart position), draws the torso at each slice centre and the heart at three
depths across each slab, averaging them (through-plane partial volume of the 5 to 10 mm
thick slices; once, at the centre, in mid-ventricular slabs where the heart hardly
changes), and takes the label from the observer at the slab centre. The heart is
drawn only in a window around it, which holds every labelled structure.
Image axes: ``x`` to the image right (patient left), ``y`` down (posterior).
"""

from __future__ import annotations

import math

import numpy as np

from oodcalib.datasets.phantom.anatomy import Anatomy
from oodcalib.datasets.phantom.geometry import Geometry
from oodcalib.datasets.phantom.heart import render_heart
from oodcalib.datasets.phantom.long_axis import profile
from oodcalib.datasets.phantom.observer import draw_label
from oodcalib.datasets.phantom.torso import render_torso

#: Depths across a slab (fractions of its thickness) at which the heart is drawn.
SLAB_SAMPLES = np.array([-1 / 3, 0.0, 1 / 3], np.float32)
#: Normalised depths between which the heart barely changes across a slab: drawn once.
MID_VENTRICLE = (0.3, 0.65)


def heart_frame(geometry: Geometry) -> tuple[np.ndarray, np.ndarray]:
    """Heart-frame coordinates (mm) of every pixel: ``x, y`` arrays of shape ``(H, W)``."""
    g = geometry
    grid = (np.arange(g.size, dtype=np.float32) - (g.size - 1) / 2) * np.float32(g.spacing)
    dx, dy = grid[None, :] - np.float32(g.heart_xy[0]), grid[:, None] - np.float32(g.heart_xy[1])
    c, s = np.float32(math.cos(g.rotation)), np.float32(math.sin(g.rotation))
    return dx * c + dy * s, dy * c - dx * s


def _window(anatomy: Anatomy, geometry: Geometry) -> tuple[slice, slice]:
    """Rows and columns of the window around the heart (atria and aortic root included)."""
    a, g = anatomy, geometry
    reach = max(a.extent, math.hypot(*a.ra[:2]) + a.ra[2], a.la[0] + a.la[1],
                a.aortic_root[1] + a.aortic_root[2]) + a.epi_fat[0] + 4  # fmt: skip
    half = reach / g.spacing + 2
    centre = [(g.size - 1) / 2 + c / g.spacing for c in (g.heart_xy[1], g.heart_xy[0])]
    rows, cols = (
        slice(max(0, math.floor(c - half)), min(g.size, math.ceil(c + half) + 1)) for c in centre
    )
    return rows, cols


def render_anatomy(
    anatomy: Anatomy, geometry: Geometry, values: dict[str, float], observer: dict,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Draw a case as a noise-free intensity stack, its label map and its blood map.

    Args:
        anatomy: The shapes to draw.
        geometry: Pixel grid, heart pose and slices.
        values: Intensity of each tissue in
            :data:`~oodcalib.datasets.phantom.intensities.TISSUES` (air is 0).
        observer: The label's observer
            (:func:`~oodcalib.datasets.phantom.observer.sample_observer`).
        rng: Generator for the torso's random fields.

    Returns:
        ``(image, label, blood)``: float32, uint8 and float32 ``(Z, size, size)`` arrays;
        ``blood`` is the membership of flowing blood.
    """
    g, px = geometry, geometry.spacing
    x, y = heart_frame(g)
    z = np.asarray(g.slice_z, np.float32)
    centre = profile(anatomy, z)
    image = render_torso(anatomy, centre, x, y, px, values, rng)
    rows, cols = _window(anatomy, g)
    xw, yw = x[rows, cols], y[rows, cols]
    blood = np.zeros_like(image)
    t = z / np.float32(anatomy.lv_length)
    edge = (t < MID_VENTRICLE[0]) | (t > MID_VENTRICLE[1])
    for group, samples in ((edge, SLAB_SAMPLES), (~edge, SLAB_SAMPLES[1:2])):
        index = np.flatnonzero(group)
        if index.size == 0:
            continue
        depths = z[index, None] + np.float32(g.thickness) * samples[None, :]
        slab = np.repeat(image[index][:, None, rows, cols], len(samples), axis=1)
        blood_slab = render_heart(anatomy, profile(anatomy, depths), xw, yw, px, values, slab)
        image[index, rows, cols] = slab.mean(axis=1)
        blood[index, rows, cols] = blood_slab.mean(axis=1)
    label = np.zeros(image.shape, np.uint8)
    label[:, rows, cols] = draw_label(anatomy, centre, xw, yw, px, observer)
    return image, label, blood
