"""Tissue intensities, noise and texture levels of the two phantom contrasts.

- ``bssfp`` (cine): bright blood, dark-grey myocardium, bright fat and fluid, dark lungs.
- ``lge`` (late gadolinium enhancement): nulled dark myocardium, grey blood, bright fat
  and, when the anatomy has one, a bright scar; noisier.
"""

from __future__ import annotations

import numpy as np

CONTRASTS: tuple[str, ...] = ("bssfp", "lge")

#: Tissue classes the renderer paints, each needing an intensity value (air is 0).
TISSUES: tuple[str, ...] = (
    "fat", "muscle", "soft", "lung", "vessel", "liver", "bone", "fluid", "aorta", "atrium",
    "rv_wall", "myo", "papillary", "blood_lv", "blood_rv", "scar",
)  # fmt: skip

# Tissue intensity ranges (uniform) on a scanner-like scale; the rest derive from these.
_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "bssfp": {
        "blood_lv": (700, 950), "fat": (550, 750), "muscle": (170, 260), "soft": (180, 320),
        "lung": (20, 60), "vessel": (300, 600), "liver": (180, 300), "bone": (350, 500),
        "fluid": (600, 900),
    },
    "lge": {
        "blood_lv": (280, 420), "fat": (450, 650), "muscle": (150, 230), "soft": (120, 240),
        "lung": (15, 45), "vessel": (150, 300), "liver": (200, 300), "bone": (250, 400),
        "fluid": (60, 160),
    },
}  # fmt: skip
#: Blood-to-myocardium ratio: high in cine, lower (grey blood) in LGE.
BLOOD_MYO = {"bssfp": (2.5, 6.5), "lge": (2.5, 3.5)}
#: Noise standard deviation relative to the LV blood intensity, in most scans and (with
#: probability ``NOISY_PROBABILITY``) in noisy ones.
NOISE = {"bssfp": (0.03, 0.09), "lge": (0.06, 0.12)}
NOISY = {"bssfp": (0.09, 0.16), "lge": (0.12, 0.2)}
NOISY_PROBABILITY = 0.15
#: Relative amplitude of the multiplicative tissue texture.
TEXTURE = {"bssfp": (0.03, 0.08), "lge": (0.05, 0.1)}


def sample_noise(rng: np.random.Generator, contrast: str) -> float:
    """Draw the noise level (sigma relative to the LV blood) of one case.

    Example:
        >>> levels = [sample_noise(np.random.default_rng(i), "bssfp") for i in range(200)]
        >>> 0.03 <= min(levels) and max(levels) <= 0.16 and max(levels) > 0.09
        True
    """
    noisy = rng.uniform() < NOISY_PROBABILITY
    return float(rng.uniform(*(NOISY if noisy else NOISE)[contrast]))


def sample_intensities(rng: np.random.Generator, contrast: str) -> dict[str, float]:
    """Draw each tissue's mean intensity for one case.

    Example:
        >>> v = sample_intensities(np.random.default_rng(0), "bssfp")
        >>> sorted(v) == sorted(TISSUES) and v["blood_lv"] > 3 * v["myo"]
        True
    """
    v = {name: float(rng.uniform(*bounds)) for name, bounds in _RANGES[contrast].items()}
    v["myo"] = v["blood_lv"] / rng.uniform(*BLOOD_MYO[contrast])
    v["blood_rv"] = v["blood_lv"] * rng.uniform(0.85, 1.02)
    v["atrium"] = v["blood_lv"] * rng.uniform(0.8, 1.05)
    v["aorta"] = v["blood_lv"] * rng.uniform(0.8, 1.1)
    v["rv_wall"] = v["myo"] * rng.uniform(1.0, 1.3)
    v["papillary"] = v["myo"] * rng.uniform(1.0, 1.4)
    v["scar"] = v["blood_lv"] * rng.uniform(1.6, 2.4) if contrast == "lge" else v["myo"]
    assert set(v) == set(TISSUES)
    return {k: round(float(val), 2) for k, val in sorted(v.items())}
