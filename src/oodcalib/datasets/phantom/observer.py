"""The label map, drawn as a second observer would: near the image edges, not on them.

The observer traces the anatomy's contours at the centre of each slab (the image
averages the whole slab) with their own smoothing (weaker k >= 3 endocardial harmonics),
a systematic offset of each contour (``bias``, the observer's habit: the same on every
slice) and a smooth displacement (a constant and cos/sin of k = 1..3 about the LV centre,
about ``sigma`` mm RMS, partly shared by the slices). They follow the ACDC conventions:
papillary muscles and trabeculae inside the endocardial contour are LV blood pool; atria
and aortic root are background. Where the guidelines leave room, each observer decides
in their own way: basal slices are cut at their own AV plane (so the ring may open), and
a basal slice whose ring is less than ``min_ring`` closed gets no LV nor MYO; the outflow
tract inside the ring is LV or not (``lvot_as_lv``); a cavity narrower than
``min_cavity`` mm is left as myocardium, and a heart narrower than ``min_heart`` mm (the
very apex) is not labelled at all.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from oodcalib.datasets.phantom.anatomy import Anatomy
from oodcalib.datasets.phantom.long_axis import Profile, cross_section

#: RMS contour displacement of the observer (mm).
SIGMA_MM = (1.0, 2.2)
#: Standard deviation of the observer's systematic offset of each contour (mm).
BIAS_MM = 1.6
#: Scale of the displacement coefficients: constant, then k = 1, 2, 3 (cos and sin).
_WEIGHTS = np.array([0.6, 0.5, 0.5, 0.35, 0.35, 0.25, 0.25], np.float32)


def sample_observer(rng: np.random.Generator, n_slices: int) -> dict:
    """Draw the observer of one case (JSON-serialisable).

    Example:
        >>> obs = sample_observer(np.random.default_rng(0), 8)
        >>> len(obs["jitter"]["endo"]), len(obs["jitter"]["endo"][0])
        (8, 7)
    """
    sigma = float(rng.uniform(*SIGMA_MM))
    jitter, bias = {}, {}
    for name in ("endo", "epi", "rv"):
        case = rng.standard_normal(7)
        per_slice = rng.standard_normal((n_slices, 7))
        coefs = sigma * _WEIGHTS * (0.7 * case + 0.7 * per_slice)
        bias[name] = round(float(rng.normal(0, BIAS_MM)), 4)
        coefs[:, 0] += bias[name]
        jitter[name] = np.round(coefs, 4).tolist()
    return {"sigma": round(sigma, 4), "bias": bias, "jitter": jitter,
            "smoothing": round(float(rng.uniform(0.2, 0.6)), 4),
            "plane_shift": round(float(rng.uniform(-5, 5)), 4),
            "min_ring": round(float(rng.uniform(0.25, 0.75)), 4),
            "lvot_as_lv": bool(rng.uniform() < 0.5),
            "min_cavity": round(float(rng.uniform(2, 5)), 4),
            "min_heart": round(float(rng.uniform(4, 12)), 4)}  # fmt: skip


def draw_label(
    anatomy: Anatomy, prof: Profile, x: np.ndarray, y: np.ndarray, px: float, observer: dict
) -> np.ndarray:
    """The observer's label map at the slice centres.

    Args:
        anatomy: The heart.
        prof: :func:`~oodcalib.datasets.phantom.long_axis.profile` at the slice centres.
        x: Heart-frame x (mm) of the pixels, ``(H, W)``.
        y: Heart-frame y of the pixels.
        px: Pixel size (mm): the myocardium is kept at least two pixels thick.
        observer: From :func:`sample_observer`.

    Returns:
        ``(Z, H, W)`` uint8 labels (0 background, 1 RV, 2 MYO, 3 LV).
    """
    k = observer["smoothing"]
    shape = anatomy.endo_shape
    endo_shape = (*shape[:2], *(k * c for c in shape[2:]))
    sec = cross_section(anatomy, prof, x, y, endo_shape=endo_shape,
                        plane_shift=observer["plane_shift"], jitter=observer["jitter"],
                        min_wall=max(0.4 * anatomy.wall, 2.2 * px))  # fmt: skip
    endo = np.where(prof.r_endo > observer["min_cavity"], sec["endo"], np.float32(1e3))
    epi = sec["epi"]
    label = np.zeros(endo.shape, np.uint8)
    label[sec["rv"] < 0] = 1
    label[epi < 0] = 2
    label[endo < 0] = 3
    b = sec["basal"]
    lvot = (sec["lvot"] < 0) & (epi[:b] < 0) & (sec["rv"][:b] >= 0)
    label[:b][lvot] = 3 if observer["lvot_as_lv"] else 0
    label[:b][sec["aorta"] < 0] = 0
    # the share of the epicardial ring below the AV plane: too little, no LV nor MYO
    reach = (prof.plane + observer["plane_shift"]) / np.maximum(prof.r_epi, 1e-3)
    closed = 1 - np.arccos(np.clip(reach, -1, 1)) / np.pi
    label[(closed < observer["min_ring"])[:, 0, 0, None, None] & (label >= 2)] = 0
    label[(prof.r_epi < observer["min_heart"])[:, 0, 0]] = 0
    for labels in label:  # drop RV slivers cut off (4-connectivity) at the septal insertions
        parts, count = ndimage.label(labels == 1)
        if count > 1:
            labels[(parts > 0) & (parts != np.bincount(parts[parts > 0]).argmax())] = 0
    return label
