"""The interface of a network oodcalib did not train (a *foreign* network, ``--model``).

A kind (``torchscript``, ``nnunet``, ``predictions``, or a plugin's) turns its ``SPEC``
into what the protocol needs in place of the built-in U-Net: a declaration of the input
grid and classes (:mod:`~oodcalib.segmentation.networks.declaration`), a module mapping
``(N, 1, H, W)`` slices to the logits of the four classes, and, for kinds that only hold
saved outputs, the logits of each scan.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import torch

from oodcalib.config import absolute_path
from oodcalib.datasets.case import Case
from oodcalib.segmentation.networks.declaration import Declaration


@dataclass(frozen=True)
class Grid:
    """The network grid of a run (``data.size``, ``data.spacing``, ``data.input_size``)."""

    size: int
    spacing: float
    input_size: int | None = None


class ForeignNetwork(ABC):
    """One network (one fold) of a run, from its ``SPEC``.

    Args:
        spec: What follows ``KIND:`` (a file or folder, and options).
    """

    #: Registry name (``KIND``).
    kind: str = ""
    #: Whether it runs forward passes: without, the augmented passes of Alea. and
    #: Proposed, the artifact domains and LTS's augmented slices are out of reach.
    forward_passes: bool = True

    def __init__(self, spec: str):
        self.spec = spec

    @classmethod
    def resolve(cls, spec: str) -> str:
        """``spec`` as the run's ``config.json`` records it (paths made absolute)."""
        return absolute_path(spec)

    def __str__(self) -> str:
        return f"{self.kind}:{self.spec}"

    @abstractmethod
    def declaration(self) -> Declaration:
        """The declared input grid, normalisation and classes."""

    @abstractmethod
    def module(self, grid: Grid) -> torch.nn.Module:
        """The network on the CPU, in eval mode: ``(N, 1, H, W)`` to ``(N, 4, H, W)`` logits.

        ``grid`` is the run's network grid (the slices it will receive).

        Raises:
            DataError: The network cannot be loaded, or its output does not fit its
                declaration (naming the file).
        """

    def logits(self, domain: str, case: Case, grid: Grid) -> np.ndarray | None:
        """Saved ``(Z, 4, H, W)`` logits of ``case`` on the network grid; None: run the module."""
        return None

    def missing(self, domain: str, case_ids: list[str]) -> list[str]:
        """The files that saved outputs of ``case_ids`` lack (none for a real network)."""
        return []
