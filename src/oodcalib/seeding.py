"""Deterministic seeds derived from names, stable across processes and platforms."""

from __future__ import annotations

import hashlib
import random

import numpy as np


def derive_seed(*parts: object) -> int:
    """Derive a 31-bit seed from any sequence of printable parts.

    Uses SHA-256 of the parts' ``repr`` joined by ``/``, so the seed does not depend on
    Python's salted ``hash()`` and is the same in every process.

    Args:
        *parts: Values that identify the random draw (e.g. base seed, case id,
            corruption name, severity).

    Returns:
        An integer in ``[0, 2**31 - 1)``.

    Example:
        >>> derive_seed(0, "patient001", "motion", 3) == derive_seed(0, "patient001", "motion", 3)
        True
        >>> derive_seed(0, "a") != derive_seed(0, "b")
        True
    """
    text = "/".join(repr(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "little") % (2**31 - 1)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch global generators."""
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
