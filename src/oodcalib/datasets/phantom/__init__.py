"""The built-in default dataset: a procedural synthetic short-axis cardiac MRI phantom.

Each case is drawn from its own generator seeded by ``(seed, contrast, index)``, so cases
are reproducible bit for bit and independent of how many are generated. Every random
choice below is recorded in the case's ``meta``.

- Anatomy (:mod:`~oodcalib.datasets.phantom.anatomy`, mm): heart size within +-20% and
  one of five ACDC-like phenotypes (:mod:`~oodcalib.datasets.phantom.phenotype`), LV
  with papillary muscles and trabeculae (myocardium-like, labelled LV), RV crescent,
  atria, aortic root and outflow tract at the base; torso with body wall, lungs, liver,
  stomach, spine and aorta. Along the long axis
  (:mod:`~oodcalib.datasets.phantom.long_axis`) the basal ring opens toward the atria and
  the outflow tract, the RV shrinks and is gone before the apex, the cavity vanishes.
- Geometry (:mod:`~oodcalib.datasets.phantom.geometry`): pixel size 0.8 to 1.27 x the
  nominal ``spacing`` (1.2 to 1.9 mm at 1.5 mm); in-plane rotation within +-40 degrees
  (RV kept on the image left); heart off-centre by up to 15% of the field of view (kept
  inside it); 6 to 12 slices, 5 to 10 mm thick, 7.5 to 10 mm apart, base first.
- Label (:mod:`~oodcalib.datasets.phantom.observer`): a second observer's contours, 1.0
  to 2.2 mm RMS off the image's edges plus a systematic offset (1.6 mm SD) per contour,
  at the centre of each slab while the image averages the slab
  (:mod:`~oodcalib.datasets.phantom.render`).
- Acquisition (:mod:`~oodcalib.datasets.phantom.acquisition`): flow voids or inflow in
  some slices, tissue texture, coil shading, Gibbs ringing (60 to 85% of k-space kept),
  bSSFP off-resonance banding in some cine scans, Rician noise (sigma 3 to 9% of the
  blood signal in cine, 6 to 12% in LGE; 9 to 16% and 12 to 20% in the 15% noisy scans).
- Contrast (:mod:`~oodcalib.datasets.phantom.intensities`): ``bssfp`` (cine) or ``lge``
  (nulled myocardium, grey blood and, in about half the cases, a bright scar labelled
  myocardium).
"""

from __future__ import annotations

import numpy as np

from oodcalib.datasets.case import Case
from oodcalib.datasets.phantom.acquisition import acquire
from oodcalib.datasets.phantom.anatomy import sample_anatomy
from oodcalib.datasets.phantom.geometry import sample_geometry
from oodcalib.datasets.phantom.intensities import (
    CONTRASTS,
    TEXTURE,
    sample_intensities,
    sample_noise,
)
from oodcalib.datasets.phantom.observer import sample_observer
from oodcalib.datasets.phantom.phenotype import apply_phenotype
from oodcalib.datasets.phantom.render import render_anatomy
from oodcalib.datasets.validation import validate_case
from oodcalib.seeding import derive_seed

__all__ = ["CONTRASTS", "load_phantom", "make_phantom_case"]


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
    # the draws up to the rendering do not depend on size or spacing
    scar_probability = 0.5 if contrast == "lge" else 0.0
    anatomy = sample_anatomy(rng, scar_probability=scar_probability)
    _, anatomy = apply_phenotype(rng, anatomy, scar_probability=scar_probability)
    geometry = sample_geometry(rng, anatomy, size, spacing)
    values = sample_intensities(rng, contrast)
    observer = sample_observer(rng, geometry.n_slices)
    sigma = values["blood_lv"] * sample_noise(rng, contrast)
    image, label, blood = render_anatomy(anatomy, geometry, values, observer, rng)
    acquisition = acquire(image, blood, rng, contrast=contrast, px=geometry.spacing,
                          texture=TEXTURE[contrast], sigma=sigma)  # fmt: skip
    t = np.asarray(geometry.slice_z) / anatomy.lv_length
    scar = anatomy.scar
    prefix = "lge_phantom" if contrast == "lge" else "phantom"
    case = Case(
        case_id=f"{prefix}{index:03d}",
        image=image,
        label=label,
        domain=domain or ("lge" if contrast == "lge" else "clean"),
        spacing=(geometry.spacing, geometry.spacing),
        source=f"phantom(seed={seed}, contrast={contrast}, index={index})",
        meta={"generator": "phantom", "seed": seed, "contrast": contrast, "index": index,
              "anatomy": anatomy.to_meta(), "geometry": geometry.to_meta(),
              "slice_t": np.round(t, 4).tolist(), "intensities": values,
              "observer": observer, "acquisition": acquisition,
              "scar_slices": [] if scar is None else
              np.flatnonzero((t >= scar[3]) & (t <= scar[4])).tolist()},
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
        spacing: Nominal pixel size in mm; each case's pixel size (its ``spacing``) is
            drawn in ``[0.8, 1.27] x spacing``. The anatomy has a fixed physical size.
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
        >>> [c.case_id for c in cases], cases[0].domain
        (['phantom000', 'phantom001'], 'clean')
        >>> all(1.2 <= c.spacing[0] == c.spacing[1] <= 1.9 for c in cases)
        True
    """
    if n_cases < 1:
        raise ValueError(f"n_cases must be at least 1, got {n_cases}")
    return [
        make_phantom_case(first_index + i, seed=seed, contrast=contrast, size=size,
                          spacing=spacing, domain=domain)
        for i in range(n_cases)
    ]  # fmt: skip
