"""Severity levels 1-5 of the four MRI corruptions, as ranges for the TorchIO samplers.

Level 3 (:data:`DEFAULT_SEVERITY`) is the reference recipe of the authors' code:
``RandomMotion(degrees=30, translation=10)`` and ``RandomGhosting()``, ``RandomSpike()``,
``RandomBiasField()`` at TorchIO's defaults (checked against TorchIO 1.2). Levels 1 and 2
are milder, 4 and 5 stronger. Ranges follow TorchIO: a single number ``d`` means
``U(-d, d)``; a pair ``(a, b)`` means ``U(a, b)`` (integers inclusive).

===========  =============================  ========  ========  ======  ======  ======
corruption   parameter                      1         2         3       4       5
===========  =============================  ========  ========  ======  ======  ======
bias_field   coefficients (order 3)         0.1       0.25      0.5     0.75    1.0
motion       degrees                        2         5         30      40      50
motion       translation (voxels)           1         2         10      15      20
motion       num_transforms                 2         2         2       4       6
ghosting     intensity (num_ghosts 4-10)    .1-.25    .25-.5    .5-1    1-1.5   1.5-2
spike        intensity (1 spike)            .2-.5     .5-1      1-3     3-5     5-8
===========  =============================  ========  ========  ======  ======  ======

Notes:
    - Apart from motion's number of movements, a level changes only the ranges, never the
      number or order of the draws, so for a fixed seed the drawn strengths (bias
      coefficients, ghost and spike intensities) grow with the level.
    - Motion works in voxel units on a thin stack (Z of about 10 against H, W of about
      100 to 200) and, in the authors' axis order, splits k-space along W (in-plane):
      beyond about 10 degrees the copies rotated out of plane mostly leave the slab. The
      mild levels therefore use small angles, and the strong levels add movements (a
      larger share of k-space taken from moved copies). Every level is checked to strain
      the image more than the one below (``tests/corruptions/test_artifacts.py``).
    - Ghosting scales the modified k-space planes by ``1 - intensity``, so the artifact
      grows linearly with the intensity; above 1 the ghost planes are phase-inverted. The
      axis is drawn among all three (TorchIO's default) and only the central k-space
      plane is restored (``restore=None``).
"""

from __future__ import annotations

from typing import Any

#: The reference recipe of the paper.
DEFAULT_SEVERITY = 3

#: Valid severity levels, mildest first.
SEVERITIES: tuple[int, ...] = (1, 2, 3, 4, 5)

_GHOST_INTENSITY = ((0.1, 0.25), (0.25, 0.5), (0.5, 1.0), (1.0, 1.5), (1.5, 2.0))
_SPIKE_INTENSITY = ((0.2, 0.5), (0.5, 1.0), (1.0, 3.0), (3.0, 5.0), (5.0, 8.0))

#: ``SEVERITY_TABLE[name][level]``: keyword arguments of TorchIO's ``Random*`` transform.
SEVERITY_TABLE: dict[str, dict[int, dict[str, Any]]] = {
    "bias_field": {
        level: {"coefficients": c, "order": 3}
        for level, c in zip(SEVERITIES, (0.1, 0.25, 0.5, 0.75, 1.0), strict=True)
    },
    "motion": {
        level: {"degrees": d, "translation": t, "num_transforms": n}
        for level, d, t, n in zip(
            SEVERITIES, (2, 5, 30, 40, 50), (1, 2, 10, 15, 20), (2, 2, 2, 4, 6), strict=True
        )
    },
    "ghosting": {
        level: {"num_ghosts": (4, 10), "axes": (0, 1, 2), "intensity": i, "restore": None}
        for level, i in zip(SEVERITIES, _GHOST_INTENSITY, strict=True)
    },
    "spike": {
        level: {"num_spikes": (1, 1), "intensity": i}
        for level, i in zip(SEVERITIES, _SPIKE_INTENSITY, strict=True)
    },
}


def check_severity(severity: int) -> int:
    """Return ``severity`` if it is a valid level, else raise a ValueError listing them.

    Example:
        >>> check_severity(3)
        3
        >>> check_severity(6)
        Traceback (most recent call last):
        ...
        ValueError: severity must be one of 1, 2, 3, 4, 5, got 6
    """
    if isinstance(severity, bool) or severity not in SEVERITIES:
        valid = ", ".join(str(s) for s in SEVERITIES)
        raise ValueError(f"severity must be one of {valid}, got {severity!r}")
    return int(severity)
