"""One fold of the benchmark: train the segmenter, fit every calibrator, score every scan.

A fold is the unit of the job grid. Its outputs live in ``run_dir/fold{k}/``:

- ``checkpoint.pt``, ``train_log.csv``: the segmentation net;
- ``logits/{domain}/{case}.npy``: its logits, computed once and shared by all methods;
- ``passes/{domain}/{case}/n{N}.npz``: augmented passes, shared by Alea., Proposed, their
  repeats and the ablations (:mod:`~oodcalib.benchmark.pass_cache`);
- ``calibrators/{method}_r{repeat}.pt``: each fitted calibrator, reused by ablations and
  figures;
- ``per_case/{method}_r{repeat}.csv`` (+ ``.json`` with hyperparameters and fitted
  state): one tidy row per (domain, case, metric);
- ``forward_passes.json``: slices sent through the segmentation net, per stage.

Finished pieces are skipped on a rerun.
"""

from __future__ import annotations

import inspect
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from oodcalib.baselines import CALIBRATORS, Calibrator, ScanLogits
from oodcalib.benchmark.inference import ForwardCounter, load_model, predict_logits
from oodcalib.benchmark.metrics import scan_metrics
from oodcalib.benchmark.pass_cache import PassCache
from oodcalib.benchmark.training import train_segmenter
from oodcalib.config import Config
from oodcalib.datasets import Case
from oodcalib.errors import OodcalibError, lookup
from oodcalib.seeding import derive_seed

COLUMNS = ["method", "fold", "repeat", "domain", "case", "metric", "value"]


def fold_dir(run_dir: Path, fold: int) -> Path:
    """Directory of fold ``fold``."""
    return Path(run_dir) / f"fold{fold}"


def file_label(method: str) -> str:
    """File-name form of a method name (plugin paths contain ``:``)."""
    return method.replace(":", ".")


class LogitStore:
    """Segmentation logits per (domain, case) of one fold, cached as float16 ``.npy``.

    Scans it returns carry a ``passes`` provider from ``passes`` (if given), so every
    calibrator reuses the same cached augmented passes.
    """

    def __init__(self, root: Path, model, passes: PassCache | None = None,
                 counter: ForwardCounter | None = None):
        self.root, self.model, self.passes, self.counter = Path(root), model, passes, counter

    def get(self, domain: str, case: Case) -> ScanLogits:
        """Logits of ``case`` in ``domain``, computed on first use."""
        path = self.root / domain / f"{case.case_id}.npy"
        if path.exists():
            logits = np.load(path).astype(np.float32)
        else:
            if self.counter is not None:
                with self.counter.stage("logits"):
                    logits = predict_logits(self.model, case.image)
            else:
                logits = predict_logits(self.model, case.image)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, logits.astype(np.float16))
            os.replace(tmp, path)
            logits = logits.astype(np.float16).astype(np.float32)
        provider = (self.passes.provider(domain, case.case_id, case.image)
                    if self.passes is not None else None)
        return ScanLogits(case.case_id, case.image, logits, case.label, provider)


@dataclass
class Fold:
    """A trained fold, ready for calibration: its model, caches and pass counter."""

    config: Config
    directory: Path
    index: int
    model: torch.nn.Module
    store: LogitStore
    counter: ForwardCounter

    @classmethod
    def open(cls, config: Config, run_dir: Path, fold: int) -> Fold:
        """Load fold ``fold`` of ``run_dir`` (its segmentation net must be trained)."""
        directory = fold_dir(run_dir, fold)
        checkpoint = directory / "checkpoint.pt"
        if not checkpoint.exists():
            raise OodcalibError(f"{checkpoint}: missing; run `oodcalib run` on this directory "
                                "first to train the segmentation nets")
        model = load_model(checkpoint)
        counter = ForwardCounter(model)
        snapshots = [n for n in config.eval.ablation_num_aug if n < config.eval.num_aug]
        passes = PassCache(directory / "passes", model, config.seed, snapshots)
        passes_counted = _CountedPasses(passes, counter)
        store = LogitStore(directory / "logits", model, passes_counted, counter)
        return cls(config, directory, fold, model, store, counter)

    def calibrator(self, method: str, repeat: int, scans: list[ScanLogits],
                   label: str | None = None, **params) -> Calibrator:
        """Fit (or load the saved fit of) ``method`` for ``repeat``; ``params`` override."""
        label = label or file_label(method)
        path = self.directory / "calibrators" / f"{label}_r{repeat}.pt"
        if path.exists():
            return torch.load(path, weights_only=False)
        cls = lookup(CALIBRATORS, method, "method")
        seed = derive_seed(self.config.seed, "calibrator", self.index, method, repeat)
        kwargs = calibrator_kwargs(cls, self.config) | params
        calibrator = cls(random_state=seed, **kwargs)
        with self.counter.stage(f"fit:{label}"):
            calibrator.fit(scans, self.model)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(calibrator, path.with_suffix(".tmp"))
        os.replace(path.with_suffix(".tmp"), path)
        return calibrator

    def evaluate(self, calibrator: Calibrator, label: str, repeat: int,
                 domains: dict[str, list[Case]]) -> pd.DataFrame:
        """Score ``calibrator`` on every scan of ``domains``: one row per metric."""
        rows = []
        jobs = [(d, c) for d, cases in domains.items() for c in cases]
        for domain, case in tqdm(jobs, desc=f"fold {self.index} {label} r{repeat}", leave=False):
            probs = calibrator.predict_proba(self.store.get(domain, case), self.model)
            if not np.isfinite(probs).all():
                raise OodcalibError(f"{label}: non-finite probabilities on {domain}/{case.case_id}")
            scores = scan_metrics(np.moveaxis(probs, 1, 0), case.label,
                                  n_bins=self.config.eval.n_bins,
                                  roi_size=self.config.eval.roi_size)
            rows += [(label, self.index, repeat, domain, case.case_id, k, v)
                     for k, v in scores.items()]
        return pd.DataFrame(rows, columns=COLUMNS)

    def save_counts(self) -> dict[str, int]:
        """Add this session's forward passes to ``forward_passes.json``."""
        return self.counter.save(self.directory / "forward_passes.json")


class _CountedPasses:
    """A :class:`PassCache` whose new passes are counted under the stage ``passes``."""

    def __init__(self, cache: PassCache, counter: ForwardCounter):
        self.cache, self.counter = cache, counter

    def provider(self, domain: str, case_id: str, image: np.ndarray):
        inner = self.cache.provider(domain, case_id, image)

        def passes(num_aug: int) -> tuple[np.ndarray, np.ndarray]:
            with self.counter.stage("passes"):
                return inner(num_aug)
        return passes


def calibrator_kwargs(cls: type[Calibrator], config: Config) -> dict:
    """The configured hyperparameters that ``cls.__init__`` accepts (``None`` skipped)."""
    accepted = inspect.signature(cls.__init__).parameters
    values = {**vars(config.calib), "num_aug": config.eval.num_aug}
    return {k: v for k, v in values.items() if k in accepted and v is not None}


def run_fold(config: Config, run_dir: Path, fold: int, train: list[Case], val: list[Case],
             test_domains: dict[str, list[Case]]) -> list[Path]:
    """Train, calibrate and evaluate one fold; return its per-case CSV files."""
    out = fold_dir(run_dir, fold)
    train_segmenter(train, val, config, out, derive_seed(config.seed, "train", fold),
                    desc=f"fold {fold} train")
    ctx = Fold.open(config, run_dir, fold)
    val_scans = [ctx.store.get("val", c) for c in val]
    written = []
    try:
        for method in config.eval.methods:
            label = file_label(method)
            for repeat in range(config.eval.repeats):
                path = out / "per_case" / f"{label}_r{repeat}.csv"
                written.append(path)
                if path.exists():
                    continue
                calibrator = ctx.calibrator(method, repeat, val_scans)
                write_csv(ctx.evaluate(calibrator, method, repeat, test_domains), path)
                state = {"method": method, "params": calibrator.get_params(),
                         "fitted": calibrator.fitted_state()}
                path.with_suffix(".json").write_text(json.dumps(state, indent=2, default=str))
    finally:
        ctx.save_counts()
    return written


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` atomically (a crash never leaves a half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, path)
