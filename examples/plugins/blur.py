"""Example plugin: a new artifact, in-plane Gaussian blur (a new test domain ``blur``).

Like the built-in artifacts it is a seeded sampler of parameters handed to TorchIO's
deterministic transform (``tio.Blur``), so every blurred scan can be replayed from the
parameters stored beside it. Use it with::

    oodcalib run --plugin examples/plugins/blur.py \
        --set eval.corruptions=bias_field,motion,ghosting,spike,blur
"""

from __future__ import annotations

import numpy as np
import torchio as tio

from oodcalib.corruptions import CORRUPTIONS, Corruption


def sample_blur(rng: np.random.Generator, std: tuple[float, float]) -> dict:
    """In-plane standard deviation (voxels) drawn from ``U(*std)``; none across slices."""
    sigma = float(rng.uniform(*std))
    return {"std": [sigma, sigma, 0.0]}


CORRUPTIONS["blur"] = Corruption(
    "blur",
    sample_blur,
    tio.Blur,
    keys=("std",),
    severities={
        1: {"std": (0.3, 0.6)},
        2: {"std": (0.6, 1.0)},
        3: {"std": (1.0, 1.5)},
        4: {"std": (1.5, 2.0)},
        5: {"std": (2.0, 3.0)},
    },
    display_name="Blur",
)
