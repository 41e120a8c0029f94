"""The benchmark runner: every stage of every (loss, fold) cell, resumable, in one run directory.

The cells (one fold of one training loss; the folds alone in a single-loss run) are
independent jobs run with joblib, so ``n_jobs``/``backend`` spread them over processes
or, with ``backend="dask"``, over a dask cluster. The runner writes the tidy
``results.csv``; tables and figures are made from it by :mod:`oodcalib.benchmark.reporting`.
See :mod:`~oodcalib.benchmark.layout` for the run directory.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed, parallel_config

from oodcalib.atomic import DAMAGED, read_json_object, write_json, write_text
from oodcalib.benchmark.layout import (
    RESULT_COLUMNS,
    fold_files,
    read_per_case,
    run_loss,
    with_loss,
)
from oodcalib.benchmark.protocol.cell_job import run_fold
from oodcalib.benchmark.protocol.foreign_network import check_saved_outputs
from oodcalib.benchmark.protocol.hyperparameters import run_losses
from oodcalib.benchmark.protocol.placement import resolve_run_device
from oodcalib.benchmark.protocol.preflight import check_names
from oodcalib.benchmark.protocol.provenance import write_environment
from oodcalib.benchmark.protocol.run_data import load_run_data
from oodcalib.benchmark.protocol.run_record import (
    check_config,
    merged_domains,
    recorded_config,
    resolve_threads,
)
from oodcalib.benchmark.run_clock import RUN_KEY, RunClock
from oodcalib.config import Config
from oodcalib.errors import DataError, OodcalibError
from oodcalib.progress import progress
from oodcalib.run_lock import run_lock


def run_benchmark(config: Config, run_dir: Path) -> pd.DataFrame:
    """Run (or resume) the whole benchmark and return the tidy per-case results.

    Args:
        config: The resolved configuration.
        run_dir: Output directory; created if needed. Finished stages are skipped.
            Its lock (:mod:`~oodcalib.run_lock`) is held throughout: a second writer
            is refused.

    Returns:
        The tidy results (also written to ``run_dir/results.csv``).
    """
    check_names(config)
    run_dir = Path(run_dir).absolute()  # dask workers may start elsewhere
    with run_lock(run_dir):  # one writer per run directory (created if needed)
        return _run_benchmark(config, run_dir)


def _run_benchmark(config: Config, run_dir: Path) -> pd.DataFrame:
    clock = RunClock(run_dir)  # the run's wall time, over every process that works on it
    resolve_threads(config, run_dir)
    device = resolve_run_device(config, recorded_config(run_dir), run_dir)
    check_config(config, run_dir)
    merged_domains(config, run_dir)
    data = load_run_data(config, run_dir)
    if config.model.networks:  # saved outputs must cover every scan before any work
        check_saved_outputs(
            config, data.splits["folds"], {**data.test_domains, **data.extra_domains}
        )
    config.save(run_dir / "config.json")
    write_environment(run_dir / "environment.json", device)
    jobs = [
        delayed(run_fold)(
            config,
            run_dir,
            fold["fold"],
            data.cases(fold["train"]),
            data.cases(fold["val"]),
            data.test_domains,
            loss,
            data.extra_domains,
            str(device),
        )
        for loss in run_losses(config)
        for fold in data.splits["folds"]
    ]
    with parallel_config(backend=config.backend, n_jobs=config.n_jobs):
        cells = Parallel(return_as="generator")(jobs)
        # the whole run's progress and time left, a line per finished cell in a log file
        cells = progress(cells, total=len(jobs), desc="run: (loss, fold) cells", interval=0)
        files = []
        for paths in cells:
            files.extend(paths)
            clock.tick()
    collect_timings(run_dir)
    results = collect_results(run_dir, files)
    clock.tick()
    return results


def collect_timings(run_dir: Path) -> dict[str, dict[str, float]]:
    """Gather the cells' ``timings.json`` into ``run_dir/timings.json``: seconds per stage.

    Keys are ``fold<k>``, or ``<loss>/fold<k>`` in a loss grid; the run's wall time
    (key ``"run"``, :mod:`~oodcalib.benchmark.run_clock`) is kept.
    """
    path = Path(run_dir) / "timings.json"
    previous = read_json_object(path)
    run = {RUN_KEY: previous[RUN_KEY]} if RUN_KEY in previous else {}
    timings = {
        _cell_name(run_dir, cell.parent): json.loads(cell.read_text())
        for cell in fold_files(run_dir, "timings.json")
    }
    write_json(path, {**run, **timings})
    return timings


def _cell_name(run_dir: Path, directory: Path) -> str:
    relative = directory.relative_to(run_dir).as_posix()
    return relative.removeprefix("losses/")


def collect_results(
    run_dir: Path, files: list[Path] | None = None, write: bool = True
) -> pd.DataFrame:
    """Concatenate per-case CSVs into ``results.csv`` (one row per observation).

    With ``write=False`` (another process holds the run's lock), only read them.
    """
    # one order whoever collects (the run, or summary and leaderboard later)
    files = sorted(files) if files is not None else fold_files(run_dir, "per_case/*.csv")
    if not files:
        raise OodcalibError(f"{run_dir}: no per-case results found")
    frames = []
    for path in files:
        try:
            frames.append(read_per_case(path))
        except DAMAGED as error:
            raise DataError(
                path,
                f"damaged per-case results ({error}); delete it and rerun "
                "`oodcalib run` on the directory to recompute it",
            ) from None
    if any("loss" not in f.columns for f in frames):
        frames = [with_loss(f, run_loss(run_dir)) for f in frames]
    results = pd.concat(frames, ignore_index=True)[RESULT_COLUMNS]
    _report_missing(run_dir, files)
    path = Path(run_dir) / "results.csv"
    text = results.to_csv(index=False)
    if write and (not path.is_file() or path.read_text() != text):  # rewritten only to mend it
        write_text(path, text)
    return results


def expected_files(config: Config, run_dir: Path) -> list[Path]:
    """The per-case files a finished run has: every cell, method, repeat and domain group."""
    from oodcalib.benchmark.layout import file_label, per_case_path
    from oodcalib.benchmark.protocol.fold import cell_dir

    groups = [None, *config.eval.domains]
    return [
        per_case_path(cell_dir(config, run_dir, k, loss), file_label(m), r, g)
        for loss in run_losses(config)
        for k in range(config.data.n_folds)
        for m in config.eval.methods
        for r in range(config.eval.repeats)
        for g in groups
    ]


def _report_missing(run_dir: Path, files: list[Path]) -> None:
    """Warn when the per-case files do not cover the run's configuration (a partial run)."""
    import warnings

    path = Path(run_dir) / "config.json"
    if not path.is_file():
        return
    expected = {p.resolve() for p in expected_files(Config.load(path), Path(run_dir))}
    missing = sorted(expected - {Path(f).resolve() for f in files})
    if missing:
        warnings.warn(
            f"{run_dir}: {len(missing)} of {len(expected)} per-case result files "
            f"are missing (first: {missing[0]}); the tables cover the finished "
            "part only: finish the run with `oodcalib run` on the same directory",
            UserWarning,
            stacklevel=2,
        )
