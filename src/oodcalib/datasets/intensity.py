"""Intensity normalisations of the network input, by name (``data.normalisation``).

The built-in U-Net reads ``robust`` volumes; a foreign network declares the one it was
trained with in its sidecar (:mod:`oodcalib.segmentation.networks.declaration`). Add
your own from a plugin with ``NORMALISATIONS["mine"] = function`` (a ``(Z, H, W)`` stack
in, a float32 stack of the same shape out).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from oodcalib.datasets.case import Case
from oodcalib.datasets.preprocessing import robust_normalise
from oodcalib.errors import lookup


def zscore_normalise(image: np.ndarray) -> np.ndarray:
    """Zero mean and unit standard deviation over the volume (nnU-Net's MRI scheme).

    Example:
        >>> x = zscore_normalise(np.array([1.0, 2.0, 3.0]))
        >>> float(x.mean()), round(float(x.std()), 6)
        (0.0, 1.0)
    """
    image = np.asarray(image, np.float64)
    std = image.std()
    if std == 0:
        return np.zeros(image.shape, np.float32)
    return ((image - image.mean()) / std).astype(np.float32)


def no_normalisation(image: np.ndarray) -> np.ndarray:
    """The intensities as prepared (float32), for networks that normalise inside."""
    return np.asarray(image, np.float32)


#: Registry: normalisation name -> function of a volume.
NORMALISATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "robust": robust_normalise,
    "zscore": zscore_normalise,
    "none": no_normalisation,
}


def normalise_case(case: Case, name: str = "robust") -> Case:
    """The case with its image normalised by the registered ``name``.

    Raises:
        UnknownNameError: If ``name`` is not registered (the message lists the valid ones).
    """
    return case.with_arrays(lookup(NORMALISATIONS, name, "normalisation")(case.image))
