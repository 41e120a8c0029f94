"""How the heart's cross-section changes from base to apex, at any depth ``z`` (mm).

- LV: the cavity follows ``r(t) = R (1 - 0.08 t) sqrt(1 - t^p)`` with ``t = z / L`` and
  vanishes at the apex (``t = 1``); the epicardium closes a little later, so the last
  slices show a small cavity or a cap of myocardium only.
- RV: the crescent thins and narrows toward the apex and is gone from ``t = rv_end`` on.
- Base: the AV plane is tilted, so basal slices cut the atria behind the ventricles and
  the myocardial ring opens toward them (:func:`ventricular_side`); the LV outflow tract
  opens the anteroseptal ring just below the aortic valve, above which the aortic root
  and the right atrium appear.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from oodcalib.datasets.phantom.anatomy import Anatomy
from oodcalib.datasets.phantom.shapes import capsule, disc, fourier, harmonics, sector

FAR = np.float32(1e3)  #: signed distance of an absent structure


@dataclass(frozen=True)
class Profile:
    """Per-depth cross-section parameters, float32 arrays shaped like ``z`` plus ``(1, 1)``.

    Attributes:
        t: Normalised depth ``z / lv_length`` (0 base, 1 apex).
        cx: LV centre x (heart frame), at the mean depth of each slab when ``z`` is
            ``(Z, K)`` (K depths across each of Z slabs).
        cy: LV centre y.
        r_endo: Endocardial radius (0 where there is no cavity).
        r_epi: Epicardial radius (0 where there is no heart).
        rv_depth: RV crescent thickness (0 where there is no RV).
        rv_half: Lateral half-extent of the RV.
        plane: In-plane offset of the AV-plane cut along its direction.
        aorta: 1 above the aortic valve, else 0.
        lvot: 1 in the outflow tract just below the aortic valve, else 0.
        ra: 1 above the tricuspid valve (right atrium), else 0.
        la: 1 where the left atrium may still show behind the AV-plane cut, else 0.
    """

    t: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    r_endo: np.ndarray
    r_epi: np.ndarray
    rv_depth: np.ndarray
    rv_half: np.ndarray
    plane: np.ndarray
    aorta: np.ndarray
    lvot: np.ndarray
    ra: np.ndarray
    la: np.ndarray


def profile(anatomy: Anatomy, z: np.ndarray) -> Profile:
    """The heart's cross-section parameters at the depths ``z`` (mm, 0 at the AV plane).

    Example:
        >>> from oodcalib.datasets.phantom.anatomy import sample_anatomy
        >>> a = sample_anatomy(np.random.default_rng(0))
        >>> p = profile(a, np.array([0.3, 0.5, 1.0]) * a.lv_length)
        >>> bool(p.r_endo[0] > p.r_endo[1] > p.r_endo[2] == 0), bool(p.rv_depth[2] == 0)
        (True, True)
    """
    a = anatomy
    z = np.asarray(z, np.float32)[..., None, None]
    t = z / np.float32(a.lv_length)
    tc = np.clip(t, 0, 1)
    t_slab = np.clip(t.mean(axis=1, keepdims=True) if t.ndim == 4 else t, 0, 1)
    power = np.float32(a.apex_power)
    r_endo = a.lv_radius * (1 - 0.08 * tc) * np.sqrt(np.clip(1 - tc**power, 0, 1))
    r_endo = np.where(t < 1, r_endo, 0).astype(np.float32)
    t_end = 1 + 0.7 * a.wall / a.lv_length  # the epicardial apex
    te = np.clip(t / t_end, 0, 1)
    r_epi = (a.lv_radius + a.wall * (1 - 0.1 * te)) * np.sqrt(np.clip(1 - te**power, 0, 1))
    r_epi = np.maximum(r_epi, r_endo + 0.5 * a.wall * (r_endo > 0))
    s_rv = np.clip(1 - tc / a.rv_end, 0, 1) ** 0.6
    rv_depth = a.rv_depth * s_rv
    rv_depth = np.where(rv_depth > 3, rv_depth, 0).astype(np.float32)
    rv_half = np.maximum(r_epi * (0.9 + (a.rv_width - 0.9) * s_rv), 1e-3)
    valve, lvot_height = a.aortic_root[3], a.aortic_root[4]
    return Profile(
        t=t,
        cx=np.float32(a.drift_xy[0]) * t_slab,
        cy=np.float32(a.drift_xy[1]) * t_slab,
        r_endo=r_endo,
        r_epi=r_epi.astype(np.float32),
        rv_depth=rv_depth,
        rv_half=rv_half.astype(np.float32),
        plane=(z / np.float32(a.av_plane[0])).astype(np.float32),
        aorta=(z < valve).astype(np.float32),
        lvot=((z >= valve) & (z < valve + lvot_height)).astype(np.float32),
        ra=(z < a.ra[3]).astype(np.float32),
        la=(z < a.av_plane[0] * (a.la[0] + 0.3 * a.la[1])).astype(np.float32),
    )


def cross_section(
    anatomy: Anatomy, prof: Profile, x: np.ndarray, y: np.ndarray, *,
    endo_shape: tuple[float, ...] | None = None, plane_shift: float = 0.0,
    jitter: dict[str, np.ndarray] | None = None, min_wall: float | None = None,
) -> dict:  # fmt: skip
    """Signed distances (mm) of the heart's structures at the depths of ``prof``.

    Args:
        anatomy: The heart.
        prof: :func:`profile` at the depths drawn (``Z`` or ``(Z, K)`` of them).
        x: Heart-frame x of the pixels, ``(H, W)``.
        y: Heart-frame y of the pixels.
        endo_shape: Endocardial Fourier coefficients to use instead of the anatomy's.
        plane_shift: In-plane shift (mm) of the AV-plane cut toward the atria.
        jitter: Per structure (``endo``, ``epi``, ``rv``), ``(Z, 7)`` coefficients of a
            smooth displacement (mm) added to its signed distance: a constant and
            ``cos kt, sin kt`` for k = 1..3 about the LV centre.
        min_wall: Thinnest myocardium (mm) where there is a cavity (0.4 x wall if None).

    Returns:
        float32 signed distances shaped ``prof.t`` with ``(H, W)`` last: ``endo``,
        ``epi``, ``rv`` (ventricles, cut at the AV plane) and ``side`` (the AV-plane cut,
        negative on the ventricular side); ``harm`` (:func:`harmonics` about the LV
        centre); ``basal``, the number ``B`` of leading slabs that reach the atria, aortic
        root or outflow tract, and those structures' distances ``la``, ``ra``, ``aorta``,
        ``lvot`` on these ``B`` slabs only.
    """
    a, p = anatomy, prof
    dx, dy = x - p.cx, y - p.cy
    harm = harmonics(dx, dy)
    r = harm[0]
    endo = r - p.r_endo * (1 + fourier(harm, endo_shape or a.endo_shape))
    epi = r - p.r_epi * (1 + fourier(harm, a.epi_shape))
    if a.thinning is not None:  # an infarcted sector: the epicardium moves inward
        angle, half, frac, first, last = a.thinning
        inside = ((p.t >= first) & (p.t <= last)).astype(np.float32)
        epi += (frac * a.wall) * sector(harm[1], harm[2], angle, half) * inside
    ca, sa = np.float32(math.cos(a.rv_angle)), np.float32(math.sin(a.rv_angle))
    mid = 0.35 * p.r_epi + 0.5 * p.rv_depth  # the RV ellipse spans -0.3 r_epi .. r_epi + depth
    semi = np.maximum(0.65 * p.r_epi + 0.5 * p.rv_depth, np.float32(1e-3))
    along, across2 = dx * ca + dy * sa - mid, (dy * ca - dx * sa) ** 2
    rho = np.maximum(np.sqrt((along / semi) ** 2 + across2 / p.rv_half**2), np.float32(1e-4))
    rv = np.sqrt(along * along + across2) * (1 - (1 + fourier(harm, a.rv_shape)) / rho)
    for name, field in (jitter or {}).items():
        coef = [c.reshape(-1, *[1] * (p.t.ndim - 1)) for c in np.asarray(field, np.float32).T]
        offset = coef[0] + sum(w * h for w, h in zip(coef[1:], harm[1:7], strict=True))
        if name == "endo":
            endo += offset
        elif name == "epi":
            epi += offset
        else:
            rv += offset
    thinnest = np.float32(0.4 * a.wall if min_wall is None else min_wall)
    endo += _gone(p.r_endo > 0)
    epi = np.minimum(epi, endo - thinnest, out=epi)
    epi += _gone(p.r_epi > 0)
    rv += _gone(p.rv_depth > 0)
    cn, sn = math.cos(a.av_plane[1]), math.sin(a.av_plane[1])
    side = dx * np.float32(cn) + dy * np.float32(sn) - (p.plane + np.float32(plane_shift))
    out = {"endo": np.maximum(endo, side, out=endo), "epi": np.maximum(epi, side, out=epi),
           "rv": np.maximum(rv, side, out=rv), "side": side, "harm": harm}  # fmt: skip
    flat = lambda f: f.reshape(f.shape[0], -1).max(axis=1)  # noqa: E731  (per slab)
    basal = flat(p.la + p.ra + p.aorta + p.lvot) > 0
    b = out["basal"] = int(np.flatnonzero(basal).max() + 1) if basal.any() else 0
    ao_angle, ao_distance, ao_radius = a.aortic_root[:3]
    ao = (ao_distance * math.cos(ao_angle), ao_distance * math.sin(ao_angle))
    out["ra"] = disc(x, y, *a.ra[:3]) + _gone(p.ra[:b] > 0)
    la = np.maximum(disc(x, y, a.la[0] * cn, a.la[0] * sn, a.la[1]), -side[:b])
    out["la"] = la + _gone(p.la[:b] > 0)
    out["aorta"] = disc(x, y, *ao, ao_radius) + _gone(p.aorta[:b] > 0)
    out["lvot"] = capsule(x, y, (0, 0), ao, 0.55 * ao_radius) + _gone(p.lvot[:b] > 0)
    np.maximum(rv[:b], -out["ra"], out=rv[:b])
    return out


def _gone(present: np.ndarray) -> np.ndarray:
    """Per-slab offset of a signed distance: 0 where a structure is present, far if not."""
    return np.where(present, np.float32(0), FAR).astype(np.float32)
