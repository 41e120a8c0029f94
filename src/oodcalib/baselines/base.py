"""The interface every calibrator (every entrant of the benchmark) implements.

Calibrators follow scikit-learn/netcal conventions: hyperparameters in ``__init__``,
``fit(...) -> self``, learned state in attributes ending in ``_``. ``fit`` sees only what
a post-hoc calibrator may see: the calibration patients' images, labels and logits, and
the frozen segmentation model. ``predict_proba`` maps one test scan to calibrated
probabilities.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch

from oodcalib.config.ranges import check_ranges
from oodcalib.errors import OodcalibError

if TYPE_CHECKING:
    from oodcalib.baselines.common.augmented_passes import AugmentedPasses


@dataclass
class ScanLogits:
    """One scan as a calibrator sees it.

    Attributes:
        case_id: Id of the scan.
        image: ``(Z, H, W)`` normalised network input.
        logits: ``(Z, C, H, W)`` logits of the frozen segmentation network.
        label: ``(Z, H, W)`` labels; present for calibration scans only.
        domain: The domain the scan belongs to (``val``, ``clean``, ``motion``, ...).
        passes: Source of augmented passes
            (:class:`~oodcalib.baselines.common.augmented_passes.AugmentedPasses`). The
            benchmark attaches its cache so that every method reuses the same passes;
            None computes them on demand.
    """

    case_id: str
    image: np.ndarray
    logits: np.ndarray
    label: np.ndarray | None = None
    domain: str = ""
    passes: AugmentedPasses | None = None


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
    #: Name in tables and figures.
    display_name: str = ""
    #: Whether the method reads augmented passes at test time; the benchmark then hands
    #: it the run's ``eval.num_aug`` as its ``num_aug`` hyperparameter.
    test_time_passes: bool = False
    #: Whether fit and predictions ignore ``random_state``: the benchmark then scores
    #: repeat 0 only and copies its results to the other repeats (identical by contract).
    deterministic: bool = False
    #: Allowed values of the hyperparameters, scikit-learn's ``_parameter_constraints``
    #: in pydantic types (:mod:`oodcalib.config.ranges`): checked by
    #: :meth:`check_params` before any work. A name not listed is not checked.
    parameter_ranges: ClassVar[dict[str, Any]] = {}

    def __init__(self, random_state: int = 0):
        self.random_state = random_state

    @abstractmethod
    def fit(self, scans: Sequence[ScanLogits], model: torch.nn.Module) -> Calibrator:
        """Learn from calibration scans (with labels) and the frozen model."""

    @abstractmethod
    def predict_proba(self, scan: ScanLogits, model: torch.nn.Module) -> np.ndarray:
        """Return ``(Z, C, H, W)`` calibrated probabilities of one scan."""

    @classmethod
    def hyperparameter_names(cls) -> list[str]:
        """Names of the hyperparameters ``__init__`` accepts (``random_state`` aside).

        Example:
            >>> from oodcalib.baselines import TemperatureScaling
            >>> TemperatureScaling.hyperparameter_names()
            ['max_iter', 'max_pixels', 'bounds']
        """
        parameters = inspect.signature(cls.__init__).parameters
        return [
            name
            for name, p in parameters.items()
            if name not in ("self", "random_state")
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    @classmethod
    def check_params(cls, params: Mapping[str, Any], input_side: int | None = None) -> list[str]:
        """What is wrong with ``params`` for a run, one line each (empty: nothing).

        Args:
            params: Hyperparameters the run gives (``calib.<method>.*``).
            input_side: Side in pixels of the network's input slices, for settings
                that depend on it (a training crop).

        Example:
            >>> from oodcalib.baselines import LocalTemperatureScaling
            >>> LocalTemperatureScaling.check_params({"iterations": 0, "lr": -1.0})
            ['calib.lts.iterations=0: must be >= 1', 'calib.lts.lr=-1.0: must be > 0']
        """
        return check_ranges(cls.parameter_ranges, params, f"calib.{cls.name}")

    def _refuse_bad_params(self) -> None:
        """Raise before fitting on a hyperparameter outside its range (0 iterations, ...)."""
        problems = type(self).check_params(self.get_params())
        if problems:
            raise OodcalibError("; ".join(problems))

    def set_params(self, **params) -> Calibrator:
        """Change hyperparameters (e.g. the test-time ``num_aug`` of a fitted model)."""
        for key, value in params.items():
            if key not in self.get_params():
                raise OodcalibError(
                    f"{type(self).__name__} has no hyperparameter {key!r}; "
                    f"valid: {', '.join(self.get_params())}"
                )
            setattr(self, key, value)
        return self

    def get_params(self) -> dict:
        """Hyperparameters given to ``__init__`` (for provenance)."""
        return {k: v for k, v in vars(self).items() if not k.endswith("_")}

    def fitted_state(self) -> dict:
        """Learned attributes (those ending in ``_``) that are JSON-friendly scalars."""
        return {
            k: v
            for k, v in vars(self).items()
            if k.endswith("_") and isinstance(v, int | float | str | bool)
        }

    def _check_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() first")


def softmax(logits: np.ndarray, axis: int = 1) -> np.ndarray:
    """Numerically stable softmax in float32.

    Example:
        >>> softmax(np.zeros((1, 4, 1, 1))).ravel().tolist()
        [0.25, 0.25, 0.25, 0.25]
    """
    z = torch.as_tensor(logits, dtype=torch.float32, device="cpu")
    return torch.softmax(z, dim=axis).numpy()


def require_labels(scans: Sequence[ScanLogits]) -> list[np.ndarray]:
    """Raise if any calibration scan lacks a label (calibrators fit on labelled data).

    Returns:
        The labels of ``scans``, in order.
    """
    if not scans:
        raise OodcalibError("no calibration scans were given to fit()")
    missing = [s.case_id for s in scans if s.label is None]
    if missing:
        raise OodcalibError(f"calibration scans without labels: {', '.join(missing)}")
    return [s.label for s in scans if s.label is not None]
