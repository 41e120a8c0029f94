"""Severity sweeps: every calibrator on every corruption at every level, on a finished run.

``oodcalib ablate RUN_DIR --severity 1 2 3 4 5`` reuses each cell's segmentation net and
saved calibrator fits; only the corrupted scans of the new levels are new (seeded as in
the run, so level ``eval.severity`` is the run's own corrupted set, whose per-case
results are reused). The corrupted volumes go to the run's corruption cache, their logits
and augmented passes to the fold's caches under the domain ``<corruption>-s<level>``.

Outputs, in ``run_dir/ablation/severity/``: per-case CSVs
``per_case/[<loss>/]fold<k>/<method>_r<repeat>.csv`` and the tidy ``results.csv``, whose
``setting`` column holds the level and whose ``domain`` is the corruption; the run's clean
rows come with level ``0``. :mod:`oodcalib.benchmark.reporting.severity_curves` draws
the curves and writes the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from oodcalib.atomic import write_csv
from oodcalib.baselines import CALIBRATORS
from oodcalib.benchmark.layout import (
    CLEAN,
    ablation_cell_dir,
    ablation_dir,
    calibrator_path,
    file_label,
    per_case_path,
    read_per_case,
)
from oodcalib.benchmark.protocol.cell_job import copy_repeat
from oodcalib.benchmark.protocol.cells import trained_cells
from oodcalib.benchmark.protocol.fold import Fold
from oodcalib.benchmark.protocol.run_data import (
    load_run_config,
    load_run_data,
    normalise,
    prepared_source,
)
from oodcalib.config import Config
from oodcalib.corruptions import CorruptionCache, check_severity
from oodcalib.datasets import Case
from oodcalib.errors import OodcalibError
from oodcalib.progress import progress
from oodcalib.run_lock import holds_run_lock

#: Level given to the clean scans in a sweep's results (the curves start there).
CLEAN_LEVEL = "0"


def sweep_domain(corruption: str, severity: int) -> str:
    """Cache name of one corruption at one level (``motion-s1``), see split_sweep_domain."""
    return f"{corruption}-s{severity}"


def split_sweep_domain(name: str) -> tuple[str, int]:
    """``(corruption, level)`` of a :func:`sweep_domain` name.

    Example:
        >>> split_sweep_domain(sweep_domain("bias_field", 4))
        ('bias_field', 4)
    """
    corruption, level = name.rsplit("-s", 1)
    return corruption, int(level)


def _check(config: Config, severities: Sequence[int], methods: Sequence[str]) -> None:
    if not severities:
        raise OodcalibError("--severity needs at least one level in 1..5")
    for level in severities:
        try:
            check_severity(level)
        except ValueError as error:
            raise OodcalibError(f"--severity: {error}") from None
    if not config.eval.corruptions:
        raise OodcalibError("the run has no corruptions (eval.corruptions) to sweep")
    unknown = [m for m in methods if m not in config.eval.methods]
    if unknown:
        raise OodcalibError(
            f"--methods: {', '.join(unknown)} not in the run; its methods "
            f"are {', '.join(config.eval.methods)}"
        )


def _new_domains(config: Config, run_dir: Path, levels: list[int]) -> dict[str, list[Case]]:
    """The clean test scans corrupted at each new level, normalised like the run's."""
    if not levels:
        return {}
    _, _, clean = prepared_source(config, run_dir, check=False)
    cache = CorruptionCache(run_dir / "corrupted")
    domains = {}
    for name in config.eval.corruptions:
        for level in levels:
            domains[sweep_domain(name, level)] = [
                normalise(cache.get(case, name, level, config.seed), config.data.normalisation)
                for case in progress(clean, desc=f"corrupt {name} s{level}")
            ]
    return domains


@holds_run_lock
def run_severity_sweep(
    run_dir: Path, severities: Sequence[int], methods: Sequence[str] | None = None
) -> pd.DataFrame:
    """Score the run's calibrators on every corruption at every level in ``severities``.

    Args:
        run_dir: A finished run directory (``oodcalib run``).
        severities: Levels in 1..5.
        methods: Calibrators to score (default: all of the run's).

    Returns:
        The tidy results with a ``setting`` column (the level; ``0`` for the clean rows),
        also written to ``ablation/severity/results.csv``.

    Raises:
        OodcalibError: Not a finished run, a level outside 1..5, or an unknown method.
    """
    run_dir = Path(run_dir)
    config = load_run_config(run_dir)
    methods = list(methods or config.eval.methods)
    levels = sorted(set(int(s) for s in severities))
    _check(config, levels, methods)
    data = load_run_data(config, run_dir)
    new = [s for s in levels if s != config.eval.severity]
    domains = _new_domains(config, run_dir, new)
    frames = []
    for loss, fold, val in trained_cells(config, run_dir, data):
        directory = ablation_cell_dir(
            run_dir, "severity", fold.index, loss if config.train.losses else None
        )
        for method in methods:
            for repeat in range(config.eval.repeats):
                frames.append(_cell(fold, method, repeat, val, domains, levels, directory))
    results = pd.concat(frames, ignore_index=True)
    write_csv(ablation_dir(run_dir, "severity") / "results.csv", results)
    return results


def _cell(
    fold: Fold,
    method: str,
    repeat: int,
    val: list,
    domains: dict[str, list[Case]],
    levels: list[int],
    directory: Path,
) -> pd.DataFrame:
    """The sweep's per-case results of one (method, repeat): read, copied or scored.

    A file from an earlier sweep is extended with the levels it lacks.
    """
    label = file_label(method)
    path = directory / f"{label}_r{repeat}.csv"
    first = directory / f"{label}_r0.csv"
    wanted = {CLEAN_LEVEL, *map(str, levels)}
    old = _read(path)
    if repeat and CALIBRATORS[method].deterministic and wanted <= set(_read(first)["setting"]):
        if not wanted <= set(old["setting"]):
            copy_repeat(first, path, repeat)
    elif not wanted <= set(old["setting"]):
        missing = [s for s in levels if str(s) not in set(old["setting"])]
        new = _score(fold, method, repeat, val, domains, missing, own=old.empty)
        write_csv(path, pd.concat([old, new], ignore_index=True))
    frame = _read(path)
    return frame[frame["setting"].isin(wanted)]


def _read(path: Path) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame({"setting": pd.Series(dtype=str)})
    return pd.read_csv(path, dtype={"setting": str, "case": str})


def _score(
    fold: Fold,
    method: str,
    repeat: int,
    val: list,
    domains: dict[str, list[Case]],
    levels: list[int],
    own: bool,
) -> pd.DataFrame:
    """Rows of ``levels`` (and, with ``own``, the clean level): the run's or new scores."""
    config = fold.config
    label = file_label(method)
    own_path = per_case_path(fold.directory, label, repeat)
    if not own_path.exists():
        raise OodcalibError(f"{own_path}: missing; finish `oodcalib run` on this run first")
    rows = read_per_case(own_path)
    frames = [rows[rows["domain"] == CLEAN].assign(setting=CLEAN_LEVEL)] if own else []
    if config.eval.severity in levels:
        frames.append(
            rows[rows["domain"].isin(config.eval.corruptions)].assign(
                setting=str(config.eval.severity)
            )
        )
    pending = {
        name: cases for name, cases in domains.items() if split_sweep_domain(name)[1] in levels
    }
    if pending:
        if not calibrator_path(fold.directory, label, repeat).exists():
            raise OodcalibError(
                f"{calibrator_path(fold.directory, label, repeat)}: missing; "
                "finish `oodcalib run` on this run first"
            )
        calibrator = fold.calibrator(method, repeat, val)
        scored, _ = fold.evaluate(calibrator, method, repeat, pending)
        origin = scored["domain"].map(split_sweep_domain)
        frames.append(scored.assign(domain=origin.str[0], setting=origin.str[1].astype(str)))
    return pd.concat(frames, ignore_index=True)
