"""Seeded, replayable MRI artifacts (bias field, motion, ghosting, k-space spike).

Every corruption is split TorchIO-style into a seeded *sampler* of parameters and a fixed,
deterministic *transform*, so every corrupted image can be replayed from the parameters
recorded in ``case.meta["corruption"]``.

Example:
    >>> import numpy as np
    >>> from oodcalib.datasets.case import Case
    >>> clean = Case("p1", np.random.default_rng(0).random((2, 8, 8)), None, "clean")
    >>> bad = corrupt_case(clean, "motion", severity=3, seed=0)
    >>> replay = apply_corruption(clean.image, "motion", bad.meta["corruption"]["params"])
    >>> bool(np.array_equal(replay, bad.image))
    True
"""

from oodcalib.corruptions.artifacts import (
    CORRUPTIONS,
    Corruption,
    apply_corruption,
    corrupt_case,
    get_corruption,
    minmax_slices,
    sample_parameters,
    severity_kwargs,
)
from oodcalib.corruptions.cache import CorruptionCache
from oodcalib.corruptions.export import write_corrupted_nifti
from oodcalib.corruptions.severity import (
    DEFAULT_SEVERITY,
    SEVERITIES,
    SEVERITY_TABLE,
    check_severity,
)

__all__ = [
    "CORRUPTIONS",
    "DEFAULT_SEVERITY",
    "SEVERITIES",
    "SEVERITY_TABLE",
    "Corruption",
    "CorruptionCache",
    "apply_corruption",
    "check_severity",
    "corrupt_case",
    "get_corruption",
    "minmax_slices",
    "sample_parameters",
    "severity_kwargs",
    "write_corrupted_nifti",
]
