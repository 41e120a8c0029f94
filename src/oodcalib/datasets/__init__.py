"""Sources of 3D short-axis cases, preprocessing, validation and splits.

- :mod:`~oodcalib.datasets.case`: the unit of data, one scan as a stack of slices;
- :mod:`~oodcalib.datasets.io`: the one image and label reader (every read error names
  its file);
- :mod:`~oodcalib.datasets.sources`: the registry :data:`SOURCES` of data sources
  (``phantom``, ``acdc``, ``mscmr_lge``, ``nifti``), each built from the config;
- :mod:`~oodcalib.datasets.phantom`: the built-in procedural phantom;
- :mod:`~oodcalib.datasets.preprocessing`, :mod:`~oodcalib.datasets.splits`.
"""

from __future__ import annotations

from oodcalib.datasets.case import CLASS_NAMES, NUM_CLASSES, Case
from oodcalib.datasets.phantom import load_phantom
from oodcalib.datasets.sources import SOURCES, load_source
from oodcalib.datasets.sources.acdc import load_acdc
from oodcalib.datasets.sources.mscmr_lge import load_mscmr_lge
from oodcalib.datasets.sources.nifti import load_nifti

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
