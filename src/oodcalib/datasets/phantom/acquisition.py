"""The MR acquisition of a noise-free phantom stack: flow, texture, coils, k-space, noise.

In order, each step's parameters drawn from the case's generator and returned for the
case's ``meta``:

1. Blood flow: in some slices a dark signal void (turbulent dephasing jet) or bright
   inflow over part of a blood pool.
2. Tissue texture: smooth multiplicative fluctuations at two scales (1 and 4 mm).
3. Coil sensitivity: a sum-of-squares combination of 4 to 8 surface coils around the
   body (anterior coils stronger), times a per-breath-hold scale.
4. Off-resonance banding (bSSFP, 30% of the scans): dark bands along iso-lines of a
   smooth off-resonance field.
5. Gibbs ringing: k-space truncated to the central 60 to 85% of the frequencies along
   the phase-encoding direction (and, in half the cases, along the readout too).
6. Rician noise: magnitude of the image plus complex Gaussian noise.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft
from scipy.ndimage import gaussian_filter

#: Fraction of the central k-space frequencies kept along a truncated direction.
GIBBS_KEEP = (0.6, 0.85)
#: Probability that a slice shows a flow effect, per contrast.
FLOW_PROBABILITY = {"bssfp": 0.35, "lge": 0.2}
#: Probability that a scan shows off-resonance banding (a bSSFP artifact only).
BANDING_PROBABILITY = {"bssfp": 0.3, "lge": 0.0}


def _flow(
    image: np.ndarray, blood: np.ndarray, rng: np.random.Generator, px: float, probability: float
) -> list[dict]:
    """Signal voids and bright inflow over parts of the blood pools, in place."""
    events = []
    z, h, w = image.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for index in range(z):
        inside = np.flatnonzero(blood[index] > 0.5)
        if rng.uniform() >= probability or inside.size == 0:
            continue
        row, col = divmod(int(inside[rng.integers(inside.size)]), w)
        void = bool(rng.uniform() < 0.5)
        size = float(rng.uniform(4, 10) if void else rng.uniform(12, 30)) / px
        angle, stretch = rng.uniform(0, math.pi), rng.uniform(1.0, 2.5)
        du, dv = xx - col, yy - row
        u = (du * math.cos(angle) + dv * math.sin(angle)) / (size * stretch)
        v = (dv * math.cos(angle) - du * math.sin(angle)) / size
        blob = np.exp(-0.5 * (u * u + v * v)) * blood[index]
        strength = float(rng.uniform(0.35, 0.75) if void else rng.uniform(0.15, 0.5))
        image[index] *= 1 - strength * blob if void else 1 + strength * blob
        events.append({"slice": index, "kind": "void" if void else "inflow", "row": row,
                       "col": col, "size_px": round(size, 3), "stretch": round(stretch, 3),
                       "strength": round(strength, 4)})  # fmt: skip
    return events


def _texture(
    shape: tuple[int, ...], rng: np.random.Generator, px: float, amplitude: float
) -> np.ndarray:
    """Multiplicative texture ``1 + amplitude * field`` at 1 and 4 mm.

    One field per case, larger than the image, seen through a random window per slice.
    """
    z, h, w = shape
    pad = 24
    white = rng.standard_normal((h + pad, w + pad), dtype=np.float32)
    fine = gaussian_filter(white, 0.7, truncate=2.5)
    coarse = gaussian_filter(white, 4.0 / px, truncate=2.5)
    field = fine / max(float(fine.std()), 1e-6) + coarse / max(float(coarse.std()), 1e-6)
    field = 1 + np.float32(amplitude / math.sqrt(2)) * field
    offsets = rng.integers(0, pad + 1, (z, 2))
    return np.stack([field[r : r + h, c : c + w] for r, c in offsets])


def _coils(shape: tuple[int, ...], rng: np.random.Generator, px: float) -> tuple[np.ndarray, dict]:
    """Sum-of-squares sensitivity of surface coils around the body, about 1 at the centre."""
    _, h, w = shape
    n = int(rng.integers(4, 9))
    angles = rng.uniform(0, 2 * math.pi, n)
    distance = rng.uniform(110, 170, n)  # mm from the image centre
    gains = np.where(np.sin(angles) < 0, rng.uniform(1.0, 1.8, n), rng.uniform(0.5, 1.0, n))
    width = float(rng.uniform(70, 170))
    ys = ((np.arange(h, dtype=np.float32) - (h - 1) / 2) * px)[:, None]
    xs = ((np.arange(w, dtype=np.float32) - (w - 1) / 2) * px)[None, :]
    total = np.zeros((h, w), np.float32)
    for angle, dist, gain in zip(angles, distance, gains, strict=True):
        d2 = (xs - dist * math.cos(angle)) ** 2 + (ys - dist * math.sin(angle)) ** 2
        total += np.float32(gain**2) / (1 + d2 / np.float32(width**2)) ** 2
    field = np.sqrt(total)
    field /= field[h // 2 - h // 8 : h // 2 + h // 8, w // 2 - w // 8 : w // 2 + w // 8].mean()
    scale = rng.uniform(0.93, 1.07, shape[0]).astype(np.float32)  # per breath-hold
    params = {"n_coils": n, "angles": np.round(angles, 4).tolist(),
              "distance_mm": np.round(distance, 2).tolist(), "gains": np.round(gains, 4).tolist(),
              "width_mm": round(width, 2), "slice_scale": np.round(scale, 4).tolist()}  # fmt: skip
    return np.clip(field, 0.25, 4.0)[None] * scale[:, None, None], params


def _banding(image: np.ndarray, rng: np.random.Generator, px: float) -> dict:
    """Off-resonance banding of bSSFP: dark bands where the off-resonance phase crosses pi.

    The off-resonance field is smooth and smallest near the (shimmed) image centre, so
    the bands mostly cross the periphery, sometimes the heart; in place.
    """
    z, h, w = image.shape
    u = ((np.arange(w, dtype=np.float32) - (w - 1) / 2) * px / 120)[None, :]
    v = ((np.arange(h, dtype=np.float32) - (h - 1) / 2) * px / 120)[:, None]
    quad, lin = rng.uniform(0.5, 1.5, 3), rng.normal(0, 0.3, 2)
    cycles = float(rng.uniform(0.6, 2.0))  # off-resonance cycles 120 mm from the centre
    field = cycles * (quad[0] * u * u + quad[1] * v * v + (quad[2] - 1) * u * v
                      + lin[0] * u + lin[1] * v)  # fmt: skip
    offset = rng.uniform(0, 0.35) + rng.normal(0, 0.04, (z,)).astype(np.float32)
    width, depth = float(rng.uniform(0.02, 0.05)), float(rng.uniform(0.5, 0.9))
    phase = np.mod(field[None] + offset[:, None, None], 1) - 0.5
    image *= 1 - np.float32(depth) * np.exp(-((phase / np.float32(width)) ** 2))
    return {"cycles": round(cycles, 4), "quadratic": np.round(quad, 4).tolist(),
            "linear": np.round(lin, 4).tolist(), "offset": np.round(offset, 4).tolist(),
            "width": round(width, 4), "depth": round(depth, 4)}  # fmt: skip


def _gibbs(image: np.ndarray, rng: np.random.Generator) -> dict:
    """Truncate k-space to its central frequencies (ringing and blur), in place."""
    phase_axis = int(rng.integers(0, 2))  # 0: rows (vertical), 1: columns
    keep = [1.0, 1.0]
    keep[phase_axis] = float(rng.uniform(*GIBBS_KEEP))
    if rng.uniform() < 0.5:
        keep[1 - phase_axis] = float(rng.uniform(*GIBBS_KEEP))
    _, h, w = image.shape
    spectrum = scipy.fft.rfft2(image)
    spectrum[:, np.abs(scipy.fft.fftfreq(h)) > keep[0] / 2] = 0
    spectrum[:, :, scipy.fft.rfftfreq(w) > keep[1] / 2] = 0
    image[:] = scipy.fft.irfft2(spectrum, s=(h, w))
    return {"phase_axis": "rows" if phase_axis == 0 else "cols",
            "keep": [round(k, 4) for k in keep]}  # fmt: skip


def acquire(
    image: np.ndarray, blood: np.ndarray, rng: np.random.Generator, *, contrast: str,
    px: float, texture: tuple[float, float], sigma: float,
) -> dict:  # fmt: skip
    """Apply the acquisition to a noise-free stack, in place, and return its parameters.

    Args:
        image: ``(Z, H, W)`` float32 noise-free intensities (modified in place).
        blood: ``(Z, H, W)`` membership of flowing blood (for the flow effects).
        rng: The case's generator (consumed).
        contrast: ``"bssfp"`` or ``"lge"`` (flow effects are rarer in LGE).
        px: Pixel size (mm).
        texture: Range of the relative texture amplitude.
        sigma: Standard deviation of the complex noise.

    Returns:
        JSON-serialisable parameters of every step.
    """
    flow = _flow(image, blood, rng, px, FLOW_PROBABILITY[contrast])
    amplitude = float(rng.uniform(*texture))
    image *= _texture(image.shape, rng, px, amplitude)
    coil, coil_params = _coils(image.shape, rng, px)
    image *= coil
    banding = None
    if rng.uniform() < BANDING_PROBABILITY[contrast]:
        banding = _banding(image, rng, px)
    gibbs = _gibbs(image, rng)
    noise = rng.standard_normal((2, *image.shape), dtype=np.float32)
    noise *= np.float32(sigma)
    image += noise[0]
    np.square(image, out=image)
    image += np.square(noise[1], out=noise[1])
    np.sqrt(image, out=image)
    return {"flow": flow, "texture": round(amplitude, 4), "coils": coil_params,
            "banding": banding, "gibbs": gibbs, "noise_sigma": round(sigma, 3)}  # fmt: skip
