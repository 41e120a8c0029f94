"""Explicit hyperparameter routing: which value reaches which calibrator or loss.

A calibrator receives exactly ``config.calib[<method>]`` (``--set calib.lts.lr=1e-4``),
plus the run's ``eval.num_aug`` when it declares ``test_time_passes``. A loss receives
exactly ``config.train.loss_params`` (``--set train.loss_params.alpha=0.1``). Nothing is
matched by name against other sections, and a name the calibrator or loss does not
accept is an error that lists the valid ones.
"""

from __future__ import annotations

from typing import Any

from oodcalib.baselines import CALIBRATORS, Calibrator
from oodcalib.config import Config
from oodcalib.errors import OodcalibError, lookup, reject_unknown


def calibrator_params(config: Config, method: str) -> dict[str, Any]:
    """Hyperparameters of ``method`` in this run (its own defaults fill the rest).

    Raises:
        UnknownNameError: If ``method`` is not registered (lists the valid ones).
        OodcalibError: If ``calib.<method>`` is not a section, or names a hyperparameter
            the calibrator does not take (lists the valid ones).

    Example:
        >>> from oodcalib.config import build_config
        >>> calibrator_params(build_config("quick"), "alea")
        {'num_aug': 10}
    """
    cls: type[Calibrator] = lookup(CALIBRATORS, method, "method")
    routed = config.calib.get(method, {})
    if not isinstance(routed, dict):
        raise OodcalibError(f"config key calib.{method} must hold hyperparameters "
                            f"(calib.{method}.NAME=VALUE), got {routed!r}")
    params = {"num_aug": config.eval.num_aug} if cls.test_time_passes else {}
    params |= routed
    reject_unknown("calibrator", method, params, cls.hyperparameter_names())
    return params


def check_hyperparameters(config: Config) -> None:
    """Check every ``calib.<method>.<name>`` and ``train.loss_params.<name>`` before a run."""
    from oodcalib.benchmark.segmentation.losses import loss_hyperparameter_names

    for method in dict.fromkeys([*config.calib, *config.eval.methods]):
        calibrator_params(config, method)
    reject_unknown("loss", config.train.loss, config.train.loss_params,
                   loss_hyperparameter_names(config.train.loss))
