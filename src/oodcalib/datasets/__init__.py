"""Sources of 3D short-axis cases, preprocessing, validation and splits.

Every source is a function returning a list of :class:`Case`. They are registered by
name in :data:`SOURCES`:

- ``phantom``: the built-in procedural phantom (bSSFP cine, or LGE contrast);
- ``acdc``: ACDC cine, official NIfTI release or SSL4MIS HDF5 volumes;
- ``mscmr_lge``: MS-CMRSeg late gadolinium enhancement;
- ``nifti``: any NIfTI set given by glob patterns and a label map.
"""

from __future__ import annotations

from collections.abc import Callable

from oodcalib.datasets.acdc import load_acdc
from oodcalib.datasets.case import CLASS_NAMES, NUM_CLASSES, Case
from oodcalib.datasets.mscmr_lge import load_mscmr_lge
from oodcalib.datasets.nifti import load_nifti
from oodcalib.datasets.phantom import load_phantom
from oodcalib.errors import lookup

SOURCES: dict[str, Callable[..., list[Case]]] = {
    "phantom": load_phantom,
    "acdc": load_acdc,
    "mscmr_lge": load_mscmr_lge,
    "nifti": load_nifti,
}


def load_source(name: str, **kwargs) -> list[Case]:
    """Load all cases of the source registered as ``name``."""
    return lookup(SOURCES, name, "data source")(**kwargs)


__all__ = [
    "CLASS_NAMES",
    "NUM_CLASSES",
    "SOURCES",
    "Case",
    "load_acdc",
    "load_mscmr_lge",
    "load_nifti",
    "load_phantom",
    "load_source",
]
