"""The job of one (loss, fold) cell, start to end: train its net, then score every method.

:func:`run_fold` is what the runner hands to joblib (or dask) once per cell;
:func:`score_cell` fits (or loads) every calibrator of the cell and writes its per-case
files one by one, so a killed cell resumes at the first missing file; the commands that
rescore or extend a finished run reuse it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import torch

from oodcalib.atomic import read_cache, write_csv, write_json
from oodcalib.baselines import CALIBRATORS, Calibrator, ScanLogits
from oodcalib.benchmark.layout import (
    CALIBRATION,
    bins_path,
    domain_groups,
    file_label,
    per_case_path,
    read_per_case,
)
from oodcalib.benchmark.protocol.fold import Fold, cell_dir
from oodcalib.benchmark.protocol.hyperparameters import cell_config, run_losses
from oodcalib.benchmark.protocol.placement import placement, record_memory, start_memory
from oodcalib.benchmark.protocol.stage_timer import StageTimer
from oodcalib.config import Config
from oodcalib.datasets import Case
from oodcalib.plugins import PluginError, load_plugins
from oodcalib.seeding import derive_seed
from oodcalib.segmentation.training import train_segmenter


def run_fold(
    config: Config,
    run_dir: Path,
    fold: int,
    train: list[Case],
    val: list[Case],
    test_domains: dict[str, list[Case]],
    loss: str | None = None,
    extra_domains: dict[str, list[Case]] | None = None,
    device: str | None = None,
) -> list[Path]:
    """Train, calibrate and evaluate one (loss, fold) cell; return its per-case CSV files.

    A foreign network (``model.networks``) comes trained: the cell calibrates and
    evaluates it.

    Every loss trains from the same seed (initialisation, batches, augmentation), so the
    losses of a grid are compared on paired nets. ``device`` is where its networks run
    (default: ``config.device``; ``cuda`` in a dask worker is the worker's own GPU).
    """
    load_plugins(config.plugins)  # a worker process starts with bare registries
    if config.train.num_threads:  # the run's count, in every process (same numbers)
        torch.set_num_threads(config.train.num_threads)
    loss = loss or run_losses(config)[0]
    out = cell_dir(config, run_dir, fold, loss)
    timer = StageTimer()
    prefix = f"{loss} " if config.train.losses else ""
    place = placement(config, device)
    start_memory(place.device)
    cell = cell_config(config, loss)
    if not config.model.networks:  # a foreign network comes trained
        with timer.stage("train"):
            train_segmenter(
                train,
                val,
                cell.model,
                cell.train,
                out,
                derive_seed(config.seed, "train", fold),
                desc=f"{prefix}fold {fold} train",
                placement=place,
            )
    ctx = Fold.open(config, run_dir, fold, timer, loss, str(place.device))
    val_scans = [ctx.store.get(CALIBRATION, c) for c in val]
    try:
        return score_cell(ctx, val_scans, domain_groups(test_domains, extra_domains or {}))
    finally:
        ctx.save_counts()
        record_memory(ctx.directory, place.device)


def score_cell(
    ctx: Fold, val_scans: list[ScanLogits], groups: dict[str | None, dict[str, list[Case]]]
) -> list[Path]:
    """Fit (or load) every calibrator of a cell and score it on every group of domains.

    ``groups`` maps a file suffix (None: the built-in domains' file; an extra domain's
    name: its own file, see :func:`~oodcalib.benchmark.layout.per_case_path`)
    to the domains scored into it. Finished files are kept; returns every file's path.
    Forward-pass counts and stage times are saved after every file, so the
    ``forward_passes.json`` of a killed and resumed run still adds up.

    Raises:
        PluginError: A plugin's calibrator failed (:func:`~oodcalib.plugins.plugin_call`);
            raised once the other methods are scored and written.
    """
    written = []
    failed: dict[str, PluginError] = {}
    for group, domains in groups.items():
        for method in ctx.config.eval.methods:
            label = file_label(method)
            for repeat in range(ctx.config.eval.repeats):
                path = per_case_path(ctx.directory, label, repeat, group)
                written.append(path)
                if method in failed:
                    continue
                if read_cache(path, read_per_case, "per-case results") is not None:
                    continue
                if repeat and CALIBRATORS.get(method, Calibrator).deterministic:
                    copy_repeat(per_case_path(ctx.directory, label, 0, group), path, repeat)
                    continue
                try:
                    calibrator = ctx.calibrator(method, repeat, val_scans)
                    ctx.write_scores(calibrator, method, repeat, domains, path)
                except PluginError as error:  # the other methods are still scored
                    failed[method] = error
                    continue
                ctx.save_counts()  # a killed session keeps the counts of its finished work
    if failed:
        first, *more = failed.values()
        others = [m for m in ctx.config.eval.methods if m not in failed]
        also = f" (and {len(more)} more: {', '.join(list(failed)[1:])})" if more else ""
        raise PluginError(
            f"{first}{also}; the results of the other methods ({', '.join(others) or 'none'}) "
            f"in {ctx.directory} are written and kept"
        )
    return written


def copy_repeat(first: Path, path: Path, repeat: int) -> None:
    """Write repeat 0's per-case results (and state) as those of ``repeat``.

    For deterministic calibrators, whose repeats are identical by contract
    (``tests/baselines/test_contract.py``).
    """
    if bins_path(first).exists():
        write_csv(bins_path(path), pd.read_csv(bins_path(first)).assign(repeat=repeat))
    write_csv(path, pd.read_csv(first).assign(repeat=repeat))
    state = first.with_suffix(".json")
    if state.exists():
        write_json(path.with_suffix(".json"), json.loads(state.read_text()))
