"""Every calibrator of the benchmark (its entrants), behind one interface (:class:`Calibrator`).

One file per entrant; the parts several share (temperature networks, the augmented
training sampler, the test-time passes, the learned-temperature training loop, the
calibration pixels of TS, IR and Platt) are in :mod:`oodcalib.baselines.common`. Methods
are looked up by name in :data:`CALIBRATORS`, whose order is the order of the rows in
tables. Add your own from a plugin file with ``CALIBRATORS["mine"] = MyCalibrator`` (a
:class:`Calibrator` subclass), or name it on the command line as
``package.module:ClassName``.
"""

from __future__ import annotations

from oodcalib.baselines.aleatoric import Aleatoric
from oodcalib.baselines.base import Calibrator, NotFittedError, ScanLogits, softmax
from oodcalib.baselines.isotonic_regression import IsotonicRegressionCalibrator
from oodcalib.baselines.local_temperature_scaling import LocalTemperatureScaling
from oodcalib.baselines.platt_scaling import PlattScaling
from oodcalib.baselines.susceptibility_shape_prior import SusceptibilityShapePrior
from oodcalib.baselines.temperature_scaling import TemperatureScaling
from oodcalib.baselines.uncalibrated import Uncalibrated
from oodcalib.errors import lookup
from oodcalib.plugins import declare_registry

#: Registry: method name -> calibrator class, in table order (the paper's Table 1).
CALIBRATORS: dict[str, type[Calibrator]] = {
    "uc": Uncalibrated,
    "alea": Aleatoric,
    "ts": TemperatureScaling,
    "lts": LocalTemperatureScaling,
    "proposed": SusceptibilityShapePrior,
    "ir": IsotonicRegressionCalibrator,
    "platt": PlattScaling,
}
declare_registry("CALIBRATORS", CALIBRATORS)  # a plugin replaces one by OVERRIDE


def get_calibrator(name: str, **hyperparameters) -> Calibrator:
    """Instantiate the calibrator registered as ``name``.

    Example:
        >>> get_calibrator("ts", random_state=1).random_state
        1
    """
    return lookup(CALIBRATORS, name, "method")(**hyperparameters)


def display_names() -> dict[str, str]:
    """``{method: display name}`` of every registered calibrator, in table order.

    Example:
        >>> display_names()["alea"]
        'Alea.'
    """
    return {name: cls.display_name or name for name, cls in CALIBRATORS.items()}


__all__ = [
    "CALIBRATORS",
    "Aleatoric",
    "Calibrator",
    "IsotonicRegressionCalibrator",
    "LocalTemperatureScaling",
    "NotFittedError",
    "PlattScaling",
    "ScanLogits",
    "SusceptibilityShapePrior",
    "TemperatureScaling",
    "Uncalibrated",
    "display_names",
    "get_calibrator",
    "softmax",
]
