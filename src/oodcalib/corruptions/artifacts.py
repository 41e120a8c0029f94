"""Seeded MRI artifacts: sample parameters, then apply a fixed TorchIO transform.

As in TorchIO, randomness and application are split. :func:`sample_parameters` draws the
parameters that TorchIO's ``Random*.get_params`` would draw (with the samplers of
:mod:`oodcalib.corruptions.samplers`), but from ``np.random.default_rng(seed)`` instead of
torch's global generator, and returns them as the JSON-serialisable keyword arguments of
the deterministic transform (``tio.Motion``, ``tio.Ghosting``, ``tio.Spike``,
``tio.BiasField``). :func:`apply_corruption` runs that transform, so any corrupted image
can be replayed from its recorded parameters.

Recipe of the authors' code (Chen et al.'s ``generate_artefacted_data.py``, which made
the paper's corrupted sets), on the whole stack as one 3D volume: min-max normalise each
slice to ``[0, 1]``, apply the transform, rescale each slice to ``[0, 1]`` again. The
stack is corrupted on the grid the network sees (after cropping and resizing, see
:func:`~oodcalib.datasets.preprocessing.prepare_case`).

Axis convention, the authors' too: a ``(Z, H, W)`` stack becomes the TorchIO tensor
``(1, Z, H, W)`` with an identity affine (their ``(N, 1, H, W).permute(1, 0, 2, 3)``).
Spatial axes 0, 1, 2 of the parameters (ghosting axis, spike positions, rotations and
translations) are therefore Z (slices), H (rows) and W (columns); translations are in
voxels; motion segments k-space along W, as TorchIO does along its last axis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torchio as tio

from oodcalib.corruptions.samplers import (
    Params,
    sample_bias_field,
    sample_ghosting,
    sample_motion,
    sample_spike,
)
from oodcalib.corruptions.severity import DEFAULT_SEVERITY, SEVERITY_TABLE, check_severity
from oodcalib.datasets.case import Case
from oodcalib.errors import DataError, lookup
from oodcalib.plugins import declare_registry
from oodcalib.seeding import derive_seed


@dataclass(frozen=True)
class Corruption:
    """One registered artifact: its sampler, TorchIO's deterministic transform, its levels.

    Attributes:
        name: Registry name, also the name of its test domain.
        sampler: ``sampler(rng, **ranges) -> params``: draws the transform's arguments.
        transform: TorchIO's deterministic transform class, called with ``params``.
        keys: Keyword arguments of ``transform`` that the sampler draws.
        array_params: Those TorchIO needs as numpy arrays.
        severities: Level (1..5) -> keyword ranges handed to ``sampler``.
        display_name: Column header in tables.
    """

    name: str
    sampler: Callable[..., Params]
    transform: Callable[..., tio.Transform]
    keys: tuple[str, ...]
    array_params: tuple[str, ...] = ()
    severities: dict[int, dict[str, Any]] = field(default_factory=dict)
    display_name: str = ""


#: Registry of corruptions (in the order of the artifact domains in tables), looked up
#: with :func:`oodcalib.errors.lookup`.
CORRUPTIONS: dict[str, Corruption] = {
    "bias_field": Corruption(
        "bias_field",
        sample_bias_field,
        tio.BiasField,
        ("coefficients", "order"),
        severities=SEVERITY_TABLE["bias_field"],
        display_name="Bias",
    ),
    "motion": Corruption(
        "motion",
        sample_motion,
        tio.Motion,
        ("degrees", "translation", "times", "image_interpolation"),
        ("degrees", "translation", "times"),
        severities=SEVERITY_TABLE["motion"],
        display_name="Motion",
    ),
    "ghosting": Corruption(
        "ghosting",
        sample_ghosting,
        tio.Ghosting,
        ("num_ghosts", "axis", "intensity", "restore"),
        severities=SEVERITY_TABLE["ghosting"],
        display_name="Ghost",
    ),
    "spike": Corruption(
        "spike",
        sample_spike,
        tio.Spike,
        ("spikes_positions", "intensity"),
        ("spikes_positions",),
        severities=SEVERITY_TABLE["spike"],
        display_name="Spike",
    ),
}
declare_registry("CORRUPTIONS", CORRUPTIONS)  # replaced only by OVERRIDE


def get_corruption(name: str) -> Corruption:
    """Registry entry of ``name`` (raises UnknownNameError listing the valid names)."""
    return lookup(CORRUPTIONS, name, "corruption")


def severity_kwargs(name: str, severity: int = DEFAULT_SEVERITY) -> dict[str, Any]:
    """Ranges of one corruption at one severity level.

    Args:
        name: Corruption name (``bias_field``, ``motion``, ``ghosting``, ``spike``).
        severity: Level in 1..5.

    Returns:
        A fresh dict of TorchIO ``Random*`` keyword arguments.

    Raises:
        UnknownNameError: If ``name`` is not a corruption.
        ValueError: If ``severity`` is not in 1..5.

    Example:
        >>> severity_kwargs("motion")
        {'degrees': 30, 'translation': 10, 'num_transforms': 2}
    """
    return dict(get_corruption(name).severities[check_severity(severity)])


def sample_parameters(name: str, severity: int, seed: int) -> Params:
    """Draw the parameters of one corruption, reproducibly.

    Args:
        name: Corruption name, one of :data:`CORRUPTIONS`.
        severity: Level in 1..5 (see :mod:`oodcalib.corruptions.severity`).
        seed: Seed of ``np.random.default_rng``.

    Returns:
        JSON-serialisable keyword arguments of the fixed TorchIO transform.

    Example:
        >>> p = sample_parameters("ghosting", 3, seed=0)
        >>> sorted(p), 4 <= p["num_ghosts"] <= 10, 0.5 <= p["intensity"] <= 1
        (['axis', 'intensity', 'num_ghosts', 'restore'], True, True)
        >>> p == sample_parameters("ghosting", 3, seed=0)
        True
    """
    corruption = get_corruption(name)
    kwargs = dict(corruption.severities[check_severity(severity)])
    return corruption.sampler(np.random.default_rng(seed), **kwargs)


def minmax_slices(image: np.ndarray) -> np.ndarray:
    """Min-max normalise each slice of a ``(Z, H, W)`` stack to ``[0, 1]`` (constant -> 0).

    Example:
        >>> minmax_slices(np.array([[[1.0, 3.0]], [[5.0, 5.0]]])).tolist()
        [[[0.0, 1.0]], [[0.0, 0.0]]]
    """
    image = np.asarray(image, dtype=np.float64)
    low = image.min(axis=(1, 2), keepdims=True)
    span = image.max(axis=(1, 2), keepdims=True) - low
    out = np.divide(image - low, span, out=np.zeros_like(image), where=span > 0)
    return out.astype(np.float32)


def _check_stack(image: np.ndarray, where: str) -> None:
    if image.ndim != 3 or image.size == 0:
        raise DataError(where, f"image must be a non-empty (Z, H, W) stack, got {image.shape}")
    if not np.all(np.isfinite(image)):
        raise DataError(where, "image contains NaN or infinite values")


def apply_corruption(image: np.ndarray, name: str, params: Params) -> np.ndarray:
    """Apply one corruption with fixed parameters to a whole ``(Z, H, W)`` stack.

    Deterministic: the same image and parameters give a bit-identical result.

    Args:
        image: ``(Z, H, W)`` stack of any float range.
        name: Corruption name, one of :data:`CORRUPTIONS`.
        params: Parameters from :func:`sample_parameters` (or their JSON round trip).

    Returns:
        float32 ``(Z, H, W)`` corrupted stack in ``[0, 1]``.

    Raises:
        UnknownNameError: If ``name`` is not a corruption.
        DataError: If ``image`` is not a finite 3D stack.
        ValueError: If ``params`` does not have the keys the corruption needs.

    Example:
        >>> x = np.random.default_rng(0).random((2, 8, 8))
        >>> y = apply_corruption(x, "spike", sample_parameters("spike", 3, seed=1))
        >>> y.shape, y.dtype, float(y.min()), float(y.max())
        ((2, 8, 8), dtype('float32'), 0.0, 1.0)
    """
    corruption = get_corruption(name)
    image = np.asarray(image)
    _check_stack(image, "image")
    if set(params) != set(corruption.keys):
        raise ValueError(
            f"{corruption.name} parameters must have the keys {sorted(corruption.keys)}, "
            f"got {sorted(params)}"
        )
    kwargs = {
        key: np.asarray(value, dtype=np.float64) if key in corruption.array_params else value
        for key, value in params.items()
    }
    tensor = torch.from_numpy(minmax_slices(image))[None]
    subject = tio.Subject(image=tio.ScalarImage(tensor=tensor, affine=np.eye(4)))
    out = corruption.transform(**kwargs, copy=False)(subject).get_scalar_image("image").data
    return minmax_slices(out[0].numpy())


def corrupt_case(case: Case, name: str, severity: int = DEFAULT_SEVERITY, seed: int = 0) -> Case:
    """Corrupt one case with parameters seeded by (seed, case id, corruption, severity).

    Args:
        case: The clean case.
        name: Corruption name, one of :data:`CORRUPTIONS`.
        severity: Level in 1..5.
        seed: Base seed of the benchmark run.

    Returns:
        A new case with the corrupted image, the same label, ``domain=name`` and
        ``meta["corruption"] = {"name", "severity", "seed", "derived_seed", "params"}``.

    Example:
        >>> c = Case("p1", np.random.default_rng(0).random((2, 8, 8)), None, "clean")
        >>> out = corrupt_case(c, "bias_field")
        >>> out.domain, out.meta["corruption"]["severity"], out.image.shape
        ('bias_field', 3, (2, 8, 8))
    """
    corruption = get_corruption(name)
    severity = check_severity(severity)
    _check_stack(np.asarray(case.image), case.source or case.case_id)
    derived = derive_seed(seed, case.case_id, corruption.name, severity)
    params = sample_parameters(corruption.name, severity, derived)
    image = apply_corruption(case.image, corruption.name, params)
    record = {
        "name": corruption.name,
        "severity": severity,
        "seed": seed,
        "derived_seed": derived,
        "params": params,
    }
    return case.with_arrays(image, domain=corruption.name, meta={**case.meta, "corruption": record})
