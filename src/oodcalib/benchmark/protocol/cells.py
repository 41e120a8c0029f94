"""The trained (loss, fold) cells of a finished run, for the commands that reuse them.

``rescore``, ``evaluate``, the ablations and the severity sweep all open every cell's
segmentation net and calibration scans, work on them, and save the cell's forward-pass
counts; :func:`trained_cells` does that once for all of them, after
:func:`require_trained` has checked that every cell has its net.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from oodcalib.baselines import ScanLogits
from oodcalib.benchmark.layout import CALIBRATION, checkpoint_path
from oodcalib.benchmark.protocol.fold import Fold, cell_dir
from oodcalib.benchmark.protocol.hyperparameters import run_losses
from oodcalib.config import Config
from oodcalib.errors import OodcalibError


def require_trained(config: Config, run_dir: Path, purpose: str) -> None:
    """Refuse a run whose cells are not all trained, naming the first missing net.

    Args:
        config: The run's configuration.
        run_dir: The run directory.
        purpose: What needs the nets, for the message (``rescoring it``).
    """
    if config.model.networks:  # foreign networks come trained
        return
    for loss in run_losses(config):
        for fold in range(config.data.n_folds):
            checkpoint = checkpoint_path(cell_dir(config, run_dir, fold, loss))
            if not checkpoint.exists():
                raise OodcalibError(
                    f"{checkpoint}: missing; finish `oodcalib run` on {run_dir} before {purpose}"
                )


def trained_cells(
    config: Config, run_dir: Path, data
) -> Iterator[tuple[str, Fold, list[ScanLogits]]]:
    """Every (loss, fold) cell, opened, with its calibration scans: ``(loss, fold, val)``.

    The cell's forward-pass counts and stage times are saved when the caller moves on to
    the next cell, or leaves the loop (an error included).

    Args:
        config: The run's configuration.
        run_dir: The run directory.
        data: The run's :class:`~oodcalib.benchmark.protocol.run_data.RunData`.
    """
    for loss in run_losses(config):
        for spec in data.splits["folds"]:
            fold = Fold.open(config, run_dir, spec["fold"], loss=loss)
            val = [fold.store.get(CALIBRATION, c) for c in data.cases(spec["val"])]
            try:
                yield loss, fold, val
            finally:
                fold.save_counts()
