"""Seeded parameter samplers of the artifacts: TorchIO's ``Random*.get_params``, with numpy.

Each sampler draws, from a ``np.random.Generator``, the keyword arguments of one
deterministic TorchIO transform (``tio.BiasField``, ``tio.Motion``, ``tio.Ghosting``,
``tio.Spike``) as JSON-serialisable values. Its own keyword arguments are the ranges of a
severity level (:data:`~oodcalib.corruptions.severity.SEVERITY_TABLE`). Spatial axes 0, 1,
2 are H, W and Z of a ``(Z, H, W)`` stack (see :mod:`oodcalib.corruptions.artifacts`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Keyword arguments of a deterministic TorchIO transform, JSON-serialisable.
Params = dict[str, Any]


def _range(value: float | tuple[float, float]) -> tuple[float, float]:
    """TorchIO's range convention: ``d`` means ``(-d, d)``."""
    if isinstance(value, (int, float)):
        return -float(value), float(value)
    low, high = value
    return float(low), float(high)


def sample_bias_field(rng: np.random.Generator, coefficients: float, order: int) -> Params:
    """Polynomial coefficients of ``tio.BiasField``, each ``U(-coefficients, coefficients)``.

    Example:
        >>> p = sample_bias_field(np.random.default_rng(0), coefficients=0.5, order=3)
        >>> len(p["coefficients"]), p["order"]
        (20, 3)
    """
    num = (order + 1) * (order + 2) * (order + 3) // 6  # monomials of degree <= order in 3D
    return {"coefficients": rng.uniform(*_range(coefficients), size=num).tolist(), "order": order}


def sample_motion(
    rng: np.random.Generator, degrees: float, translation: float, num_transforms: int
) -> Params:
    """Rotations, translations (voxels) and k-space times of ``tio.Motion``.

    Times are evenly spaced in ``(0, 1)`` and perturbed by up to 30 % of their spacing.
    """
    rotations = rng.uniform(*_range(degrees), size=(num_transforms, 3))
    shifts = rng.uniform(*_range(translation), size=(num_transforms, 3))
    step = 1 / (num_transforms + 1)  # evenly spaced times, perturbed by 30 % of a step
    times = step * np.arange(1, num_transforms + 1) + rng.uniform(
        -0.3 * step, 0.3 * step, size=num_transforms
    )
    return {
        "degrees": rotations.tolist(),
        "translation": shifts.tolist(),
        "times": times.tolist(),
        "image_interpolation": "linear",
    }


def sample_ghosting(
    rng: np.random.Generator,
    num_ghosts: tuple[int, int],
    axes: tuple[int, ...],
    intensity: tuple[float, float],
    restore: tuple[float, float] | None,
) -> Params:
    """Number of ghosts (inclusive range), axis, intensity and restore of ``tio.Ghosting``."""
    return {
        "num_ghosts": int(rng.integers(num_ghosts[0], num_ghosts[1] + 1)),
        "axis": int(axes[int(rng.integers(len(axes)))]),
        "intensity": float(rng.uniform(*intensity)),
        "restore": None if restore is None else float(rng.uniform(*restore)),
    }


def sample_spike(
    rng: np.random.Generator, num_spikes: tuple[int, int], intensity: tuple[float, float]
) -> Params:
    """Spike positions (in ``[0, 1)^3``) and a signed intensity of ``tio.Spike``."""
    num = int(rng.integers(num_spikes[0], num_spikes[1] + 1))
    strength = float(rng.uniform(*_range(intensity)))
    return {"spikes_positions": rng.random((num, 3)).tolist(), "intensity": strength}
