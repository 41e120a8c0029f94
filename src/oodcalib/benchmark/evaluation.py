"""One fold of the benchmark: train the segmenter, fit every calibrator, score every scan.

A fold is the unit of the job grid. Its outputs live in ``run_dir/fold{k}/``:
``checkpoint.pt``, ``train_log.csv``, ``logits/`` (segmentation logits per domain and
scan, computed once and shared by all methods and repeats) and ``per_case/`` (one tidy
CSV per method and repeat). Finished pieces are skipped on a rerun.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from oodcalib.baselines import ScanLogits, get_calibrator
from oodcalib.benchmark.inference import load_model, predict_logits
from oodcalib.benchmark.metrics import scan_metrics
from oodcalib.benchmark.training import train_segmenter
from oodcalib.config import Config
from oodcalib.datasets import Case
from oodcalib.seeding import derive_seed

COLUMNS = ["method", "fold", "repeat", "domain", "case", "metric", "value"]


def fold_dir(run_dir: Path, fold: int) -> Path:
    """Directory of fold ``fold``."""
    return run_dir / f"fold{fold}"


class LogitStore:
    """Segmentation logits per (domain, case) of one fold, cached as float16 ``.npy``."""

    def __init__(self, root: Path, model):
        self.root, self.model = root, model

    def get(self, domain: str, case: Case) -> ScanLogits:
        """Logits of ``case`` in ``domain``, computed on first use."""
        path = self.root / domain / f"{case.case_id}.npy"
        if path.exists():
            logits = np.load(path).astype(np.float32)
        else:
            logits = predict_logits(self.model, case.image)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, logits.astype(np.float16))
            os.replace(tmp, path)
            logits = logits.astype(np.float16).astype(np.float32)
        return ScanLogits(case.case_id, case.image, logits, case.label)


def run_fold(config: Config, run_dir: Path, fold: int, train: list[Case], val: list[Case],
             test_domains: dict[str, list[Case]]) -> list[Path]:
    """Train, calibrate and evaluate one fold; return its per-case CSV files."""
    out = fold_dir(run_dir, fold)
    checkpoint = train_segmenter(train, val, config, out, derive_seed(config.seed, "train", fold),
                                 desc=f"fold {fold} train")
    model = load_model(checkpoint)
    store = LogitStore(out / "logits", model)
    val_scans = [store.get("val", c) for c in val]
    written = []
    for method in config.eval.methods:
        for repeat in range(config.eval.repeats):
            path = out / "per_case" / f"{method.replace(':', '.')}_r{repeat}.csv"
            written.append(path)
            if path.exists():
                continue
            seed = derive_seed(config.seed, "calibrator", fold, method, repeat)
            calibrator = get_calibrator(method, random_state=seed).fit(val_scans, model)
            rows = []
            jobs = [(d, c) for d, cases in test_domains.items() for c in cases]
            for domain, case in tqdm(jobs, desc=f"fold {fold} {method} r{repeat}", leave=False):
                probs = calibrator.predict_proba(store.get(domain, case), model)
                scores = scan_metrics(np.moveaxis(probs, 1, 0), case.label,
                                      n_bins=config.eval.n_bins, roi_size=config.eval.roi_size)
                rows += [(method, fold, repeat, domain, case.case_id, k, v)
                         for k, v in scores.items()]
            _write_csv(pd.DataFrame(rows, columns=COLUMNS), path)
            state = {"method": method, "params": calibrator.get_params(),
                     "fitted": calibrator.fitted_state()}
            path.with_suffix(".json").write_text(json.dumps(state, indent=2, default=str))
    return written


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, path)
