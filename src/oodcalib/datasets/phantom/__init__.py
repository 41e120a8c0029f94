"""The built-in default dataset: a procedural synthetic short-axis cardiac MRI phantom.

Each case is drawn from its own generator seeded by ``(seed, contrast, index)``, so cases
are reproducible bit for bit and independent of how many are generated. The anatomy
(sampled in :mod:`oodcalib.datasets.phantom.anatomy`, drawn on the pixel grid in
:mod:`oodcalib.datasets.phantom.render`) is in mm; the acquisition adds partial-volume
blur, tissue texture, a smooth coil-sensitivity field and Rician noise.

Two contrasts share the anatomy generator:

- ``bssfp`` (cine): bright blood, dark-grey myocardium, bright fat, dark lungs.
- ``lge`` (late gadolinium enhancement, the cross-sequence domain): nulled dark
  myocardium, grey blood, bright fat and, in about half the cases, a bright scar
  (labelled myocardium); noisier.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from oodcalib.datasets.case import Case
from oodcalib.datasets.phantom.anatomy import sample_anatomy
from oodcalib.datasets.phantom.render import TISSUES, render_anatomy
from oodcalib.datasets.validation import validate_case
from oodcalib.seeding import derive_seed

CONTRASTS: tuple[str, ...] = ("bssfp", "lge")

# Tissue intensity ranges (uniform) on a scanner-like scale; the rest derive from these.
_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "bssfp": {
        "blood_lv": (700, 950), "fat": (550, 750), "muscle": (170, 260), "soft": (180, 320),
        "lung": (20, 60), "vessel": (300, 600), "liver": (180, 300), "bone": (350, 500),
    },
    "lge": {
        "blood_lv": (280, 420), "fat": (450, 650), "muscle": (150, 230), "soft": (120, 240),
        "lung": (15, 45), "vessel": (150, 300), "liver": (200, 300), "bone": (250, 400),
    },
}  # fmt: skip
# Blood-to-myocardium ratio: high in cine, lower (grey blood) in LGE.
_BLOOD_MYO = {"bssfp": (4.0, 6.0), "lge": (2.5, 3.5)}
_NOISE = {"bssfp": (0.03, 0.06), "lge": (0.06, 0.1)}  # sigma / blood intensity
_TEXTURE = {"bssfp": (0.03, 0.07), "lge": (0.05, 0.09)}  # relative texture amplitude


def _intensities(rng: np.random.Generator, contrast: str) -> dict[str, float]:
    """Draw each tissue's mean intensity for one case."""
    v = {name: float(rng.uniform(*bounds)) for name, bounds in _RANGES[contrast].items()}
    v["myo"] = v["blood_lv"] / rng.uniform(*_BLOOD_MYO[contrast])
    v["blood_rv"] = v["blood_lv"] * rng.uniform(0.85, 1.02)
    v["aorta"] = v["blood_lv"] * rng.uniform(0.8, 1.05)
    v["rv_wall"] = v["myo"] * rng.uniform(1.0, 1.3)
    v["papillary"] = v["myo"] * rng.uniform(1.0, 1.3)
    v["scar"] = v["blood_lv"] * rng.uniform(1.6, 2.4) if contrast == "lge" else v["myo"]
    assert set(v) == set(TISSUES)
    return {k: round(float(val), 2) for k, val in sorted(v.items())}


def _acquire(image: np.ndarray, rng: np.random.Generator, contrast: str, sigma: float) -> dict:
    """Blur, texture, bias field and Rician noise, in place on ``image``; returns params."""
    z, h, w = image.shape
    blur = float(rng.uniform(0.5, 1.2))  # PSF in pixels
    image[:] = gaussian_filter(image, (0, blur, blur))
    texture = gaussian_filter(rng.standard_normal(image.shape, dtype=np.float32), (0, 1.0, 1.0))
    amplitude = float(rng.uniform(*_TEXTURE[contrast]))
    image *= 1 + texture * np.float32(amplitude / max(float(texture.std()), 1e-6))
    zz = np.linspace(-1, 1, z, dtype=np.float32)[:, None, None]
    yy = np.linspace(-1, 1, h, dtype=np.float32)[None, :, None]
    xx = np.linspace(-1, 1, w, dtype=np.float32)[None, None, :]
    c = rng.normal(0.0, 0.15, 6).astype(np.float32)
    c[1] -= rng.uniform(0.1, 0.3)  # surface coil: anterior (top) brighter
    log_field = c[0] * xx + c[1] * yy + c[2] * xx * xx + c[3] * yy * yy + c[4] * xx * yy
    field = np.exp(np.clip(log_field + c[5] * zz, -0.7, 0.7))
    field *= rng.uniform(0.93, 1.07, (z, 1, 1)).astype(np.float32)  # per-breath-hold scale
    image *= field
    noise = rng.standard_normal((2, *image.shape), dtype=np.float32) * np.float32(sigma)
    image += noise[0]
    np.sqrt(image * image + noise[1] * noise[1], out=image)
    return {"blur_px": round(blur, 4), "texture": round(amplitude, 4),
            "bias": [round(float(x), 4) for x in c], "noise_sigma": round(sigma, 3)}  # fmt: skip


def make_phantom_case(
    index: int, *, seed: int = 0, contrast: str = "bssfp", size: int = 192,
    spacing: float = 1.5, domain: str | None = None,
) -> Case:  # fmt: skip
    """Generate the phantom case number ``index`` (see :func:`load_phantom`)."""
    if size < 32:
        raise ValueError(f"size must be at least 32 pixels, got {size}")
    if not spacing > 0:
        raise ValueError(f"spacing must be positive (mm), got {spacing}")
    if contrast not in CONTRASTS:
        raise ValueError(f"unknown contrast {contrast!r}; valid contrasts are: bssfp, lge")
    rng = np.random.default_rng(derive_seed("phantom", seed, contrast, index))
    anatomy = sample_anatomy(rng, scar_probability=0.5 if contrast == "lge" else 0.0)
    values = _intensities(rng, contrast)
    image, label = render_anatomy(anatomy, values, size, spacing, rng)
    sigma = values["blood_lv"] * float(rng.uniform(*_NOISE[contrast]))
    acquisition = _acquire(image, rng, contrast, sigma)
    prefix = "lge_phantom" if contrast == "lge" else "phantom"
    case = Case(
        case_id=f"{prefix}{index:03d}",
        image=image,
        label=label,
        domain=domain or ("lge" if contrast == "lge" else "clean"),
        spacing=(float(spacing), float(spacing)),
        source=f"phantom(seed={seed}, contrast={contrast}, index={index})",
        meta={"generator": "phantom", "seed": seed, "contrast": contrast, "index": index,
              "anatomy": anatomy.to_meta(), "intensities": values,
              "acquisition": acquisition},
    )  # fmt: skip
    return validate_case(case)


def load_phantom(
    n_cases: int = 100, *, seed: int = 0, contrast: str = "bssfp", size: int = 192,
    spacing: float = 1.5, domain: str | None = None, first_index: int = 0,
) -> list[Case]:  # fmt: skip
    """Generate synthetic short-axis cine (bSSFP) or LGE cases with labels.

    Args:
        n_cases: Number of cases.
        seed: Base seed; case ``i`` depends only on ``(seed, contrast, first_index + i)``.
        contrast: ``"bssfp"`` (cine) or ``"lge"``.
        size: Image height and width in pixels (at least 32).
        spacing: Pixel size in mm; the anatomy has a fixed physical size.
        domain: Domain name; defaults to ``"clean"`` (bssfp) or ``"lge"``.
        first_index: Index of the first case (ids ``phantom{index:03d}``, or
            ``lge_phantom{index:03d}`` for LGE).

    Returns:
        ``n_cases`` validated cases, float32 image and uint8 label of shape
        ``(Z, size, size)`` with Z from 6 to 12, base first.

    Raises:
        ValueError: If ``n_cases < 1``, ``size < 32``, ``spacing <= 0`` or the contrast
            is unknown.

    Example:
        >>> cases = load_phantom(2, size=64)
        >>> [c.case_id for c in cases], cases[0].domain, cases[0].spacing
        (['phantom000', 'phantom001'], 'clean', (1.5, 1.5))
        >>> sorted(np.unique(cases[0].label).tolist())
        [0, 1, 2, 3]
    """
    if n_cases < 1:
        raise ValueError(f"n_cases must be at least 1, got {n_cases}")
    return [
        make_phantom_case(first_index + i, seed=seed, contrast=contrast, size=size,
                          spacing=spacing, domain=domain)
        for i in range(n_cases)
    ]  # fmt: skip
