"""Pathology groups of the phantom, as in ACDC: each case is one of five phenotypes.

The groups change the sampled normal heart (:func:`apply_phenotype`), each with
probability 1/5, so that 20 training scans cover each only a few times:

- ``normal``: unchanged.
- ``dilated`` (DCM): larger, rounder cavity with a thinner wall.
- ``hypertrophic`` (HCM): small cavity, thick wall, larger papillary muscles.
- ``infarct`` (MINF): mildly dilated, with a thinned wall sector from mid to apex (the scar
  in LGE).
- ``rv_dilated`` (abnormal RV): a deeper, wider RV that reaches further toward the apex.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from oodcalib.datasets.phantom.anatomy import Anatomy

PHENOTYPES: tuple[str, ...] = ("normal", "dilated", "hypertrophic", "infarct", "rv_dilated")
#: Largest endocardial radius (mm) a dilated LV may reach.
MAX_LV_RADIUS = 36.0


def apply_phenotype(
    rng: np.random.Generator, anatomy: Anatomy, *, scar_probability: float = 0.0
) -> tuple[str, Anatomy]:
    """Draw a phenotype and change ``anatomy`` accordingly.

    Args:
        rng: Generator (consumed).
        anatomy: A normal heart from
            :func:`~oodcalib.datasets.phantom.anatomy.sample_anatomy`.
        scar_probability: Nonzero for LGE: an infarct then always shows its scar.

    Returns:
        ``(phenotype, anatomy)``.

    Example:
        >>> from oodcalib.datasets.phantom.anatomy import sample_anatomy
        >>> rng = np.random.default_rng(1)
        >>> groups = [apply_phenotype(rng, sample_anatomy(rng))[0] for _ in range(50)]
        >>> sorted(set(groups)) == sorted(PHENOTYPES)
        True
    """

    def u(low: float, high: float) -> float:
        return float(rng.uniform(low, high))

    a = anatomy
    phenotype = PHENOTYPES[int(rng.integers(len(PHENOTYPES)))]
    if phenotype == "dilated":
        radius = min(a.lv_radius * u(1.25, 1.45), MAX_LV_RADIUS)
        a = replace(a, lv_radius=round(radius, 4), wall=round(a.wall * u(0.65, 0.85), 4),
                    apex_power=round(a.apex_power * u(1.0, 1.3), 4),
                    lv_length=round(a.lv_length * u(1.05, 1.2), 4))  # fmt: skip
    elif phenotype == "hypertrophic":
        pap = tuple((*p[:2], round(p[2] * u(1.2, 1.5), 4), *p[3:]) for p in a.papillary)
        a = replace(a, lv_radius=round(a.lv_radius * u(0.55, 0.75), 4),
                    wall=round(a.wall * u(1.4, 1.8), 4), papillary=pap)  # fmt: skip
    elif phenotype == "infarct":
        first = u(0.25, 0.55)
        thinning = (round(u(0, 2 * math.pi), 4), round(u(0.5, 1.0), 4), round(u(0.3, 0.55), 4),
                    round(first, 4), round(u(first + 0.25, 1.0), 4))  # fmt: skip
        scar = a.scar
        if scar_probability > 0:
            depth = 1.0 if rng.uniform() < 0.6 else u(0.4, 0.8)
            scar = (thinning[0], thinning[1], round(depth, 4), *thinning[3:])
        a = replace(a, lv_radius=round(a.lv_radius * u(1.05, 1.25), 4), thinning=thinning,
                    scar=scar)  # fmt: skip
    elif phenotype == "rv_dilated":
        a = replace(a, rv_depth=round(a.rv_depth * u(1.4, 1.9), 4),
                    rv_width=round(a.rv_width * u(1.1, 1.25), 4),
                    rv_end=round(max(a.rv_end, u(0.82, 0.9)), 4))  # fmt: skip
    return phenotype, replace(a, phenotype=phenotype)
