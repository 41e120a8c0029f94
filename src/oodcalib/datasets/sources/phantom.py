"""The built-in phantom as a data source: bSSFP cine cases generated from the run's seed."""

from __future__ import annotations

from oodcalib.config import Config
from oodcalib.datasets.case import Case
from oodcalib.datasets.phantom import load_phantom


def from_config(config: Config) -> list[Case]:
    """``data.phantom_cases`` phantom cases at ``data.size`` px, seeded by ``seed``."""
    d = config.data
    return load_phantom(d.phantom_cases, seed=config.seed, size=d.size, spacing=d.spacing)
