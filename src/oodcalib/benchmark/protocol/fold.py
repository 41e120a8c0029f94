"""One fold of the benchmark, opened: its trained net, logits, passes and calibrators.

A fold (a (loss, fold) cell in a loss grid) is the unit of the job grid. Its outputs live
in ``run_dir/fold{k}/`` (see :mod:`~oodcalib.benchmark.layout`): the segmentation net,
its logits and augmented passes (shared by all methods), each fitted calibrator, the
per-case results and the forward-pass counts. :class:`Fold` fits (or loads) a calibrator
and scores it; :mod:`~oodcalib.benchmark.protocol.cell_job` runs a cell from training to
its last file. Finished pieces are skipped on a rerun.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from oodcalib.atomic import DAMAGED, load_torch, read_cache, save_torch, write_csv, write_json
from oodcalib.baselines import CALIBRATORS, Calibrator, ScanLogits
from oodcalib.benchmark.layout import (
    BIN_COLUMNS,
    RESULT_COLUMNS,
    bins_path,
    calibrator_path,
    checkpoint_path,
    file_label,
    fold_dir,
)
from oodcalib.benchmark.protocol.foreign_network import open_network
from oodcalib.benchmark.protocol.forward_counter import ForwardCounter
from oodcalib.benchmark.protocol.hyperparameters import calibrator_params, cell_config, run_losses
from oodcalib.benchmark.protocol.logit_store import LogitStore
from oodcalib.benchmark.protocol.pass_cache import PassCache
from oodcalib.benchmark.protocol.placement import placement
from oodcalib.benchmark.protocol.stage_timer import StageTimer
from oodcalib.config import Config
from oodcalib.datasets import Case
from oodcalib.errors import OodcalibError, lookup
from oodcalib.metrics import ScanScorer, score
from oodcalib.plugins import plugin_call
from oodcalib.progress import progress
from oodcalib.seeding import derive_seed
from oodcalib.segmentation.inference import load_model


@dataclass
class Fold:
    """A trained fold (of one loss), ready for calibration: its model, caches and counter.

    ``config`` is the single-loss configuration of the fold's loss
    (:func:`~oodcalib.benchmark.protocol.hyperparameters.cell_config`).
    """

    config: Config
    directory: Path
    index: int
    model: torch.nn.Module
    store: LogitStore
    counter: ForwardCounter
    #: The training loss of the fold's segmentation net (the ``loss`` column of its rows)
    loss: str = "dice_ce"
    #: HD95 by prediction hash, shared by the methods that keep UC's argmax
    memo: dict = field(default_factory=dict)

    @classmethod
    def open(
        cls,
        config: Config,
        run_dir: Path,
        fold: int,
        timer: StageTimer | None = None,
        loss: str | None = None,
        device: str | None = None,
    ) -> Fold:
        """Load fold ``fold`` of ``run_dir`` (its segmentation net must be trained).

        A run of foreign networks (``model.networks``) opens the fold's own network
        instead (:mod:`~oodcalib.benchmark.protocol.foreign_network`).

        Args:
            config: The run's configuration.
            run_dir: The run directory.
            fold: The fold index.
            timer: Times every stage of the fold (default: a new one).
            loss: Which loss's fold, in a loss grid (default: the run's first loss).
            device: Where the net runs (default: the run's device, ``config.device``);
                the calibrators run their nets on the same device.
        """
        loss = loss or run_losses(config)[0]
        directory = cell_dir(config, run_dir, fold, loss)
        config = cell_config(config, loss)
        saved = None
        if config.model.networks:  # a network oodcalib did not train
            model, saved = open_network(config, fold, placement(config, device))
        else:
            model = _trained_model(config, directory, device)
        counter = ForwardCounter(model, timer or StageTimer())
        snapshots = [n for n in config.eval.ablation_num_aug if n < config.eval.num_aug]
        passes = PassCache(directory / "passes", model, config.seed, snapshots, counter)
        store = LogitStore(directory / "logits", model, passes, counter, saved)
        return cls(config, directory, fold, model, store, counter, loss)

    def calibrator(
        self, method: str, repeat: int, scans: list[ScanLogits], label: str | None = None, **params
    ) -> Calibrator:
        """Fit (or load the saved fit of) ``method`` for ``repeat``; ``params`` override."""
        label = label or file_label(method)
        path = calibrator_path(self.directory, label, repeat)
        saved = read_cache(path, load_torch, "calibrator fit")
        if saved is not None:
            return saved
        cls = lookup(CALIBRATORS, method, "method")
        seed = derive_seed(self.config.seed, "calibrator", self.index, method, repeat)
        with plugin_call(cls, f"method {method!r} init"):
            calibrator = cls(random_state=seed, **(calibrator_params(self.config, method) | params))
        with self.counter.stage(f"fit:{label}"), plugin_call(cls, f"method {method!r} fit"):
            calibrator.fit(scans, self.model)
        save_torch(path, calibrator)
        return calibrator

    def evaluate(
        self, calibrator: Calibrator, label: str, repeat: int, domains: dict[str, list[Case]]
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Score ``calibrator`` on every scan of ``domains``.

        Returns:
            The tidy results (one row per scan and registered metric) and the scans'
            class-wise bins of the dataset-level metrics
            (:mod:`~oodcalib.benchmark.reporting.dataset_metrics`).
        """
        bins: dict[str, list] = {"": []}
        results = self.evaluate_settings(calibrator, label, repeat, domains, {"": {}}, bins)
        return results[""], pd.DataFrame(bins[""], columns=BIN_COLUMNS)

    def evaluate_settings(
        self,
        calibrator: Calibrator,
        label: str,
        repeat: int,
        domains: dict[str, list[Case]],
        settings: dict[str, dict],
        bins: dict[str, list] | None = None,
    ) -> dict[str, pd.DataFrame]:
        """Score ``calibrator`` under several hyperparameter settings, scan by scan.

        Each scan is loaded once and predicted with every setting in turn (``set_params``),
        so a calibrator that keeps per-scan work independent of the setting (Proposed's
        branch features do not depend on ``num_aug``) does it once. With ``bins``, the
        rows of each scan's non-empty marginal bins are appended to ``bins[setting]``.

        Returns:
            ``{setting: results}``, one tidy frame per setting.
        """
        rows: dict[str, list] = {name: [] for name in settings}
        jobs = [(d, c) for d, cases in domains.items() for c in cases]
        desc = f"{self.loss} fold {self.index} {label} r{repeat}"
        for domain, case in progress(jobs, desc=desc):
            scan = self.store.get(domain, case)
            for name, params in settings.items():
                with (
                    self.counter.stage(f"predict:{file_label(label)}"),
                    plugin_call(calibrator, f"method {label!r} predict"),
                ):
                    probs = calibrator.set_params(**params).predict_proba(scan, self.model)
                if not np.isfinite(probs).all():
                    raise OodcalibError(
                        f"{label}: non-finite probabilities on {domain}/{case.case_id}"
                    )
                with self.counter.stage("metrics"):
                    scorer = ScanScorer(
                        np.moveaxis(probs, 1, 0),
                        case.label,
                        n_bins=self.config.eval.n_bins,
                        roi_size=self.config.eval.roi_size,
                        memo=self.memo,
                        spacing=case.voxel_spacing,
                    )
                    scores = score(scorer)
                    key = (self.loss, label, self.index, repeat, domain, case.case_id)
                    if bins is not None:
                        bins[name] += [(*key, *r) for r in scorer.marginal_bins.rows()]
                rows[name] += [(*key, k, v) for k, v in scores.items()]
        return {name: pd.DataFrame(r, columns=RESULT_COLUMNS) for name, r in rows.items()}

    def write_scores(
        self,
        calibrator: Calibrator,
        method: str,
        repeat: int,
        domains: dict[str, list[Case]],
        path: Path,
    ) -> None:
        """Evaluate and write the per-case results, their bins and the fit's state.

        The results CSV is written last: its presence marks the (method, repeat) done.
        """
        results, bins = self.evaluate(calibrator, method, repeat, domains)
        write_csv(bins_path(path), bins)
        state = {
            "method": method,
            "params": calibrator.get_params(),
            "fitted": calibrator.fitted_state(),
        }
        write_json(path.with_suffix(".json"), state, default=str)
        write_csv(path, results)

    def save_counts(self) -> dict[str, int]:
        """Add this session's forward passes and stage times to the fold's JSON files.

        They go to ``forward_passes.json`` and ``timings.json`` and add up over every
        command run on the fold (``run``, ``ablate``, ``figures``).
        """
        if self.counter.timer is not None:
            self.counter.timer.save(self.directory / "timings.json")
        return self.counter.save(self.directory / "forward_passes.json")


def _trained_model(config: Config, directory: Path, device: str | None) -> torch.nn.Module:
    """The cell's trained U-Net (its checkpoint)."""
    checkpoint = checkpoint_path(directory)
    if not checkpoint.exists():
        raise OodcalibError(
            f"{checkpoint}: missing; run `oodcalib run` on this directory "
            "first to train the segmentation nets"
        )
    try:
        return load_model(checkpoint, placement(config, device), compile=config.model.compile)
    except DAMAGED as error:
        raise OodcalibError(
            f"{checkpoint}: damaged ({type(error).__name__}); run `oodcalib "
            "run` on this directory again to retrain the fold"
        ) from None


def cell_dir(config: Config, run_dir: Path, fold: int, loss: str) -> Path:
    """Directory of the (``loss``, ``fold``) cell: ``fold<k>``, or ``losses/<loss>/fold<k>``."""
    return fold_dir(run_dir, fold, loss if config.train.losses else None)
