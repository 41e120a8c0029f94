"""Explicit hyperparameter routing: which value reaches which calibrator or loss.

A calibrator receives exactly ``config.calib[<method>]`` (``--set calib.lts.lr=1e-4``),
plus the run's ``eval.num_aug`` when it declares ``test_time_passes``. A loss receives
exactly ``config.train.loss_params`` (``--set train.loss_params.alpha=0.1``). Nothing is
matched by name against other sections, and a name the calibrator or loss does not
accept is an error that lists the valid ones.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from oodcalib.baselines import CALIBRATORS, Calibrator
from oodcalib.config import Config
from oodcalib.errors import OodcalibError, lookup


def check_names(kind: str, owner: str, given: dict[str, Any], valid: list[str]) -> None:
    """Raise if ``given`` holds a name not in ``valid`` (the message lists them)."""
    unknown = sorted(set(given) - set(valid))
    if unknown:
        raise OodcalibError(f"{kind} {owner!r} has no hyperparameter "
                            f"{', '.join(map(repr, unknown))}; valid: {', '.join(valid) or 'none'}")


def calibrator_params(config: Config, method: str) -> dict[str, Any]:
    """Hyperparameters of ``method`` in this run (its own defaults fill the rest).

    Example:
        >>> from oodcalib.config import build_config
        >>> calibrator_params(build_config("quick"), "alea")
        {'num_aug': 10}
    """
    cls: type[Calibrator] = lookup(CALIBRATORS, method, "method")
    params = {"num_aug": config.eval.num_aug} if cls.test_time_passes else {}
    params |= config.calib.get(method, {})
    check_names("calibrator", method, params, cls.hyperparameter_names())
    return params


def loss_param_names(factory: Callable[..., Any]) -> list[str]:
    """Keyword hyperparameters a loss factory accepts."""
    return [name for name, p in inspect.signature(factory).parameters.items()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def check_hyperparameters(config: Config) -> None:
    """Check every ``calib.<method>.<name>`` and ``train.loss_params.<name>`` before a run."""
    from oodcalib.benchmark.segmentation.losses import LOSSES

    for method, params in config.calib.items():
        if not isinstance(params, dict):
            raise OodcalibError(f"config key calib.{method} must hold hyperparameters "
                                f"(calib.{method}.NAME=VALUE), got {params!r}")
        cls = lookup(CALIBRATORS, method, "method")
        check_names("calibrator", method, params, cls.hyperparameter_names())
    for method in config.eval.methods:
        calibrator_params(config, method)
    factory = lookup(LOSSES, config.train.loss, "loss")
    check_names("loss", config.train.loss, config.train.loss_params, loss_param_names(factory))
