"""The built-in phantom as a data source: bSSFP cine cases generated from the run's seed."""

from __future__ import annotations

from oodcalib.config import DataConfig
from oodcalib.datasets.case import Case
from oodcalib.datasets.phantom import load_phantom


def from_config(data: DataConfig, seed: int = 0) -> list[Case]:
    """``data.phantom_cases`` phantom cases at ``data.size`` px, seeded by ``seed``."""
    return load_phantom(data.phantom_cases, seed=seed, size=data.size, spacing=data.spacing)
