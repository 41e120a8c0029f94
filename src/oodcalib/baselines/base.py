"""The interface every calibrator (every entrant of the benchmark) implements.

Calibrators follow scikit-learn/netcal conventions: hyperparameters in ``__init__``,
``fit(...) -> self``, learned state in attributes ending in ``_``. ``fit`` sees only what
a post-hoc calibrator may see: the calibration patients' images, labels and logits, and
the frozen segmentation model. ``predict_proba`` maps one test scan to calibrated
probabilities.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from oodcalib.errors import OodcalibError


@dataclass
class ScanLogits:
    """One scan as a calibrator sees it.

    Attributes:
        case_id: Id of the scan.
        image: ``(Z, H, W)`` normalised network input.
        logits: ``(Z, C, H, W)`` logits of the frozen segmentation network.
        label: ``(Z, H, W)`` labels; present for calibration scans only.
        passes: Optional source of cached augmented passes: ``passes(n)`` returns the
            mean and spread of the softmax over the first ``n`` passes (see
            :mod:`~oodcalib.baselines.susceptibility`). The benchmark sets it so that
            every method reuses the same passes.
    """

    case_id: str
    image: np.ndarray
    logits: np.ndarray
    label: np.ndarray | None = None
    passes: Callable[[int], tuple[np.ndarray, np.ndarray]] | None = None


class NotFittedError(OodcalibError, RuntimeError):
    """``predict_proba`` was called before ``fit``."""


class Calibrator(ABC):
    """Base class: subclasses implement :meth:`fit` and :meth:`predict_proba`.

    Attributes:
        random_state: Seed of any randomness in fitting or prediction (the benchmark
            sets it per repeat).
    """

    #: Registry name; set by subclasses.
    name: str = ""

    def __init__(self, random_state: int = 0):
        self.random_state = random_state

    @abstractmethod
    def fit(self, scans: Sequence[ScanLogits], model: torch.nn.Module) -> Calibrator:
        """Learn from calibration scans (with labels) and the frozen model."""

    @abstractmethod
    def predict_proba(self, scan: ScanLogits, model: torch.nn.Module) -> np.ndarray:
        """Return ``(Z, C, H, W)`` calibrated probabilities of one scan."""

    def set_params(self, **params) -> Calibrator:
        """Change hyperparameters (e.g. the test-time ``num_aug`` of a fitted model)."""
        for key, value in params.items():
            if key not in self.get_params():
                raise OodcalibError(f"{type(self).__name__} has no hyperparameter {key!r}; "
                                    f"valid: {', '.join(self.get_params())}")
            setattr(self, key, value)
        return self

    def get_params(self) -> dict:
        """Hyperparameters given to ``__init__`` (for provenance)."""
        return {k: v for k, v in vars(self).items() if not k.endswith("_")}

    def fitted_state(self) -> dict:
        """Learned attributes (those ending in ``_``) that are JSON-friendly scalars."""
        return {k: v for k, v in vars(self).items()
                if k.endswith("_") and isinstance(v, int | float | str | bool)}

    def _check_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() first")


def softmax(logits: np.ndarray, axis: int = 1) -> np.ndarray:
    """Numerically stable softmax in float32.

    Example:
        >>> softmax(np.zeros((1, 4, 1, 1))).ravel().tolist()
        [0.25, 0.25, 0.25, 0.25]
    """
    z = torch.as_tensor(logits, dtype=torch.float32)
    return torch.softmax(z, dim=axis).numpy()


def require_labels(scans: Sequence[ScanLogits]) -> None:
    """Raise if any calibration scan lacks a label (calibrators fit on labelled data)."""
    if not scans:
        raise OodcalibError("no calibration scans were given to fit()")
    missing = [s.case_id for s in scans if s.label is None]
    if missing:
        raise OodcalibError(f"calibration scans without labels: {', '.join(missing)}")
