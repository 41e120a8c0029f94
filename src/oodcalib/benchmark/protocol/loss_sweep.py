"""Sensitivity of a train-time loss to one hyperparameter (``ablate --loss-param``).

``oodcalib ablate RUN --loss-param nacl.alpha=0.05,0.1,0.3`` trains one segmentation net
per (value, fold) with the run's protocol, data, splits and training seeds (so the nets
are paired with the run's own), fits the chosen post-hoc calibrators (UC and TS by
default) on top and scores every test domain. Each value is a small single-loss run of
its own, resumable like any run::

    ablation/loss_param/<loss>.<name>=<value>/fold<k>/...   (see layout)
    ablation/loss_param/<loss>.<name>/results.csv            (with a ``setting`` column)

The sweep adds the lines of the ACE, NACL and MEEP papers' sensitivity plots (metric
against alpha or lambda) under the artifacts and the sequence shift. A value the run
itself trained that loss with is not trained again: the run's own cells are used.
"""

from __future__ import annotations

import copy
import inspect
from pathlib import Path
from typing import Any

import pandas as pd
from joblib import Parallel, delayed, parallel_config

from oodcalib.atomic import write_csv
from oodcalib.benchmark.layout import ablation_dir, file_label, per_case_path
from oodcalib.benchmark.protocol.cell_job import run_fold
from oodcalib.benchmark.protocol.fold import cell_dir
from oodcalib.benchmark.protocol.hyperparameters import loss_params, run_losses
from oodcalib.benchmark.protocol.run_data import load_run_config, load_run_data
from oodcalib.config import Config, parse_value
from oodcalib.errors import OodcalibError, reject_unknown
from oodcalib.run_lock import holds_run_lock
from oodcalib.segmentation.losses import (
    LOSSES,
    get_loss,
    loss_hyperparameter_names,
)


def parse_loss_param(spec: str) -> tuple[str, str, list[Any]]:
    """``"nacl.alpha=0.05,0.1"`` -> ``("nacl", "alpha", [0.05, 0.1])``, checked.

    Raises:
        OodcalibError: Malformed spec, unknown loss or hyperparameter (listing the valid
            ones), or a value the loss refuses.

    Example:
        >>> parse_loss_param("nacl.alpha=0.05,0.1")
        ('nacl', 'alpha', [0.05, 0.1])
    """
    key, sep, text = spec.partition("=")
    loss, dot, name = key.strip().partition(".")
    if not (sep and dot and name and text.strip()):
        raise OodcalibError(
            f"--loss-param {spec!r} must look like LOSS.NAME=V1,V2,... "
            "(e.g. nacl.alpha=0.05,0.1,0.3)"
        )
    values = [parse_value(v.strip()) for v in text.split(",") if v.strip()]
    reject_unknown("loss", loss, [name], loss_hyperparameter_names(loss))
    for value in values:
        get_loss(loss, **{name: value})  # the loss checks its own value ranges
    return loss, name, values


def sweep_config(config: Config, loss: str, name: str, value: Any, methods: list[str]) -> Config:
    """The single-loss config of one value: the run's protocol, ``loss`` with ``name=value``.

    The loss's other hyperparameters are the run's, if it trains that loss.
    """
    sweep = copy.deepcopy(config)
    base = loss_params(config, loss) if loss in run_losses(config) else {}
    sweep.train.loss, sweep.train.losses = loss, []
    sweep.train.loss_params = {**base, name: value}
    sweep.eval.methods = list(methods)
    return sweep


def _own_cells(
    config: Config, run_dir: Path, loss: str, name: str, value: Any, methods: list[str]
) -> list[Path]:
    """The run's per-case files of ``loss`` if it trained it with ``name=value``, else ``[]``.

    Only when every fold is finished for every requested method.
    """
    if loss not in run_losses(config) or not set(methods) <= set(config.eval.methods):
        return []
    default = inspect.signature(LOSSES[loss]).parameters[name].default
    if loss_params(config, loss).get(name, default) != value:
        return []
    paths = [
        per_case_path(cell_dir(config, run_dir, k, loss), file_label(m), r)
        for k in range(config.data.n_folds)
        for m in methods
        for r in range(config.eval.repeats)
    ]
    return paths if all(p.exists() for p in paths) else []


@holds_run_lock
def run_loss_sweep(run_dir: Path, spec: str, methods: list[str] | None = None) -> pd.DataFrame:
    """Train and score every value of ``spec`` (``LOSS.NAME=V1,V2,...``) on ``run_dir``'s folds.

    Args:
        run_dir: A run directory (its data, splits and protocol are reused).
        spec: The hyperparameter and its values.
        methods: Post-hoc calibrators fitted on top (default UC and TS).

    Returns:
        The tidy results with a ``setting`` column (the value), also written to
        ``ablation/loss_param/<loss>.<name>/results.csv``.
    """
    run_dir = Path(run_dir)
    config = load_run_config(run_dir)
    loss, name, values = parse_loss_param(spec)
    methods = list(methods or ["uc", "ts"])
    data = load_run_data(config, run_dir)
    root = ablation_dir(run_dir, "loss_param")
    cells, frames = [], []
    for value in values:
        own = _own_cells(config, run_dir, loss, name, value, methods)
        if own:  # the run trained this very net: its results are the sweep's
            frames += [pd.read_csv(p, dtype={"case": str}).assign(setting=str(value)) for p in own]
            continue
        sweep = sweep_config(config, loss, name, value, methods)
        directory = root / f"{loss}.{name}={value}"
        directory.mkdir(parents=True, exist_ok=True)
        sweep.save(directory / "config.json")
        cells += [
            (
                value,
                delayed(run_fold)(
                    sweep,
                    directory,
                    f["fold"],
                    data.cases(f["train"]),
                    data.cases(f["val"]),
                    data.test_domains,
                ),
            )
            for f in data.splits["folds"]
        ]
    with parallel_config(backend=config.backend, n_jobs=config.n_jobs):
        outputs = Parallel()(job for _, job in cells)
    frames += [
        pd.read_csv(path, dtype={"case": str}).assign(setting=str(value))
        for (value, _), paths in zip(cells, outputs, strict=True)
        for path in paths
    ]
    if not frames:
        raise OodcalibError(f"--loss-param {spec!r}: no values to sweep")
    results = pd.concat(frames, ignore_index=True)
    write_csv(root / f"{loss}.{name}" / "results.csv", results)
    return results
