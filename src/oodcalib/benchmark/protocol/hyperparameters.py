"""Explicit hyperparameter routing: which value reaches which calibrator or loss.

A calibrator receives exactly ``config.calib[<method>]`` (``--set calib.lts.lr=1e-4``),
plus the run's ``eval.num_aug`` when it declares ``test_time_passes``. A loss receives
``config.train.loss_params``: its flat entries in a single-loss run
(``--set train.loss_params.alpha=0.1``), and in a loss grid the section named after it
(``--set train.loss_params.nacl.alpha=0.1``). Nothing is matched by name against other
sections, and a name the calibrator or loss does not accept is an error that lists the
valid ones.
"""

from __future__ import annotations

import copy
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
        raise OodcalibError(
            f"config key calib.{method} must hold hyperparameters "
            f"(calib.{method}.NAME=VALUE), got {routed!r}"
        )
    params = {"num_aug": config.eval.num_aug} if cls.test_time_passes else {}
    params |= routed
    reject_unknown("calibrator", method, params, cls.hyperparameter_names())
    return params


def run_losses(config: Config) -> list[str]:
    """The losses of a run: the grid ``train.losses``, else ``[train.loss]``.

    Example:
        >>> from oodcalib.config import build_config
        >>> run_losses(build_config("quick")), run_losses(build_config("quick",
        ...     ["train.losses=ce,nacl"]))
        (['dice_ce'], ['ce', 'nacl'])
    """
    return list(dict.fromkeys(config.train.losses)) or [config.train.loss]


def loss_params(config: Config, loss: str) -> dict[str, Any]:
    """Hyperparameters of ``loss`` in this run (the loss's own defaults fill the rest).

    Flat entries of ``train.loss_params`` belong to a single-loss run's loss; a section
    named after a loss (``train.loss_params.nacl.alpha``) to that loss, in any run.

    Raises:
        OodcalibError: A section for a loss the run does not train, or flat entries in a
            grid of several losses (they would be ambiguous).

    Example:
        >>> from oodcalib.config import build_config
        >>> c = build_config("quick", ["train.losses=ce,nacl",
        ...                            "train.loss_params.nacl.alpha=0.3"])
        >>> loss_params(c, "nacl"), loss_params(c, "ce")
        ({'alpha': 0.3}, {})
    """
    losses = run_losses(config)
    raw = config.train.loss_params
    sections = {k: v for k, v in raw.items() if isinstance(v, dict)}
    flat = {k: v for k, v in raw.items() if not isinstance(v, dict)}
    stray = sorted(set(sections) - set(losses))
    if stray:
        raise OodcalibError(
            f"config key train.loss_params.{stray[0]}: {stray[0]!r} is not a "
            f"loss of this run; its losses are: {', '.join(losses)}"
        )
    if flat and len(losses) > 1:
        name = next(iter(flat))
        raise OodcalibError(
            f"config key train.loss_params.{name} is ambiguous in a grid of "
            f"{len(losses)} losses; name the loss, e.g. "
            f"train.loss_params.{losses[0]}.{name}=..."
        )
    return flat | sections.get(loss, {})


def cell_config(config: Config, loss: str) -> Config:
    """The single-loss configuration of one loss of the run: what its cells train with.

    Example:
        >>> from oodcalib.config import build_config
        >>> c = build_config("quick", ["train.losses=ce,nacl",
        ...                            "train.loss_params.nacl.alpha=0.3"])
        >>> cell = cell_config(c, "nacl")
        >>> cell.train.loss, cell.train.loss_params, cell.train.losses
        ('nacl', {'alpha': 0.3}, [])
    """
    if loss not in run_losses(config):
        raise OodcalibError(
            f"loss {loss!r} is not trained in this run; its losses are: "
            f"{', '.join(run_losses(config))}"
        )
    cell = copy.deepcopy(config)
    cell.train.loss, cell.train.loss_params = loss, loss_params(config, loss)
    cell.train.losses = []
    return cell


def check_hyperparameters(config: Config) -> None:
    """Check every ``calib.<method>.<name>`` and every loss's parameters before a run.

    Names first (each calibrator and loss lists the ones it takes), then values: each
    calibrator checks its own (:meth:`~oodcalib.baselines.Calibrator.check_params`:
    ranges, a crop that fits the slices), and each loss is built, which checks its
    hyperparameters' ranges (NACL's α >= 0, ...) without computing anything.

    Raises:
        OodcalibError: One line per bad value, naming its key.
    """
    from oodcalib.segmentation.losses import get_loss, loss_hyperparameter_names

    problems = []
    side = config.data.input_size or config.data.size
    for method in dict.fromkeys([*config.calib, *config.eval.methods]):
        calibrator_params(config, method)  # names, and calib.<method> is a section
        cls: type[Calibrator] = lookup(CALIBRATORS, method, "method")
        own = f"calib.{cls.name}."
        problems += [
            f"calib.{method}.{line.removeprefix(own)}" if line.startswith(own) else line
            # the crop against the slices only for a method that runs (a preset sets some)
            for line in cls.check_params(
                config.calib.get(method, {}), side if method in config.eval.methods else None
            )
        ]
    for loss in run_losses(config):
        params = loss_params(config, loss)
        reject_unknown("loss", loss, params, loss_hyperparameter_names(loss))
        key = "train.loss_params" + (f".{loss}" if config.train.losses else "")
        try:
            get_loss(loss, **params)
        except (OodcalibError, ValueError, TypeError) as error:
            problems.append(f"{key}: {error}")
    if problems:
        raise OodcalibError(
            "invalid configuration:\n" + "\n".join(f"  {line}" for line in problems)
        )
