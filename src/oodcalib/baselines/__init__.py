"""Every calibrator of the benchmark, behind one interface (:class:`Calibrator`).

Methods are looked up by name in :data:`CALIBRATORS`; add your own with
``CALIBRATORS["mine"] = MyCalibrator`` (a :class:`Calibrator` subclass), or name it on the
command line as ``package.module:ClassName``.
"""

from __future__ import annotations

from oodcalib.baselines.aleatoric import Aleatoric
from oodcalib.baselines.base import Calibrator, NotFittedError, ScanLogits, softmax
from oodcalib.baselines.local_temperature_scaling import LocalTemperatureScaling
from oodcalib.baselines.susceptibility_shape_prior import SusceptibilityShapePrior
from oodcalib.baselines.temperature_scaling import TemperatureScaling
from oodcalib.baselines.uncalibrated import Uncalibrated
from oodcalib.errors import lookup

#: Registry: method name -> calibrator class.
CALIBRATORS: dict[str, type[Calibrator]] = {
    "uc": Uncalibrated,
    "ts": TemperatureScaling,
    "lts": LocalTemperatureScaling,
    "alea": Aleatoric,
    "proposed": SusceptibilityShapePrior,
}

#: Display names used in tables (the paper's).
DISPLAY_NAMES: dict[str, str] = {"uc": "UC", "ts": "TS", "lts": "LTS", "alea": "Alea.",
                                 "proposed": "Proposed"}


def get_calibrator(name: str, **hyperparameters) -> Calibrator:
    """Instantiate the calibrator registered as ``name``.

    Example:
        >>> get_calibrator("ts", random_state=1).random_state
        1
    """
    return lookup(CALIBRATORS, name, "method")(**hyperparameters)


__all__ = [
    "CALIBRATORS",
    "DISPLAY_NAMES",
    "Aleatoric",
    "Calibrator",
    "LocalTemperatureScaling",
    "NotFittedError",
    "ScanLogits",
    "SusceptibilityShapePrior",
    "TemperatureScaling",
    "Uncalibrated",
    "get_calibrator",
    "softmax",
]
