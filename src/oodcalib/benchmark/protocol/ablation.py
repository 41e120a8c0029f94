"""Ablations of a finished run (paper Table 2), reusing its models, fits and cached passes.

- ``num_aug``: the fitted Alea. and Proposed calibrators of every fold and repeat are
  re-evaluated with ``N_A`` test-time passes; the passes come from the fold's pass cache,
  so only counts above the largest cached one cost new forward passes. The run's own
  ``N_A`` is not re-evaluated: its per-case results are those of the run.
- ``components``: Proposed with the susceptibility and/or shape-prior inputs switched
  off. ``both`` is the run's own Proposed fit; the others are fitted with the same seeds.

In a loss grid, every (loss, fold) cell is ablated (``per_case/<loss>/fold<k>/``).

Outputs go to ``run_dir/ablation/{kind}/``: per-case CSVs per fold (``per_case/``) and
the tidy ``results.csv`` (with a ``setting`` column).
:func:`oodcalib.benchmark.reporting.ablation_table.write_ablation_tables` makes
``table.csv`` / ``table.md`` from it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from oodcalib.atomic import write_csv
from oodcalib.baselines import CALIBRATORS
from oodcalib.benchmark.layout import (
    ablation_cell_dir,
    ablation_dir,
    calibrator_path,
    file_label,
    per_case_path,
)
from oodcalib.benchmark.protocol.cell_job import copy_repeat
from oodcalib.benchmark.protocol.cells import trained_cells
from oodcalib.benchmark.protocol.fold import Fold
from oodcalib.benchmark.protocol.run_data import load_run_config, load_run_data
from oodcalib.config import Config
from oodcalib.errors import OodcalibError
from oodcalib.run_lock import holds_run_lock

#: Component switches of the Proposed calibrator, as in paper Table 2.
COMPONENTS: dict[str, dict[str, bool]] = {
    "neither": {"susceptibility": False, "shape_prior": False},
    "susceptibility": {"susceptibility": True, "shape_prior": False},
    "shape": {"susceptibility": False, "shape_prior": True},
    "both": {"susceptibility": True, "shape_prior": True},
}


def _settings(kind: str, values: list[int] | None, config: Config) -> list[tuple[str, str, dict]]:
    """(method, setting, params) triples of an ablation."""
    if kind == "num_aug":
        counts = values or config.eval.ablation_num_aug
        if any(n < 1 for n in counts):
            raise OodcalibError(f"--num-aug values must be >= 1, got {counts}")
        passes = [m for m, cls in CALIBRATORS.items() if cls.test_time_passes]
        methods = [m for m in passes if m in config.eval.methods]
        if not methods:
            raise OodcalibError(
                f"--num-aug ablates the test-time passes of {', '.join(passes)}, and this run "
                f"has none of them (eval.methods: {', '.join(config.eval.methods)}); run them "
                "first, e.g. `oodcalib run` with --set eval.methods=... on another --out"
            )
        return [(m, str(n), {"num_aug": n}) for m in methods for n in counts]
    if kind == "components":
        if "proposed" not in config.eval.methods:
            raise OodcalibError(
                "--components ablates the inputs of Proposed, and this run did not run it "
                f"(eval.methods: {', '.join(config.eval.methods)})"
            )
        return [("proposed", name, switches) for name, switches in COMPONENTS.items()]
    raise OodcalibError(f"unknown ablation {kind!r}; valid: num_aug, components")


@holds_run_lock
def run_ablation(run_dir: Path, kind: str, values: list[int] | None = None) -> pd.DataFrame:
    """Run (or resume) an ablation of ``run_dir`` and write its tables.

    Args:
        run_dir: A run directory made by ``oodcalib run``.
        kind: ``"num_aug"`` or ``"components"``.
        values: ``N_A`` values (``num_aug`` only); default: the config's
            ``eval.ablation_num_aug``.

    Returns:
        The tidy results with a ``setting`` column (also in ``ablation/<kind>/results.csv``).
    """
    run_dir = Path(run_dir)
    config = load_run_config(run_dir)
    settings = _settings(kind, values, config)
    out = ablation_dir(run_dir, kind)
    data = load_run_data(config, run_dir)
    frames = []
    for loss, fold, val in trained_cells(config, run_dir, data):
        directory = ablation_cell_dir(
            run_dir, kind, fold.index, loss if config.train.losses else None
        )
        for repeat in range(config.eval.repeats):
            for method in dict.fromkeys(m for m, _, _ in settings):
                own = per_case_path(fold.directory, file_label(method), repeat)
                pending = {}
                for _, setting, params in (c for c in settings if c[0] == method):
                    path = directory / f"{method}_{setting}_r{repeat}.csv"
                    if path.exists():
                        continue
                    first = directory / f"{method}_{setting}_r0.csv"
                    if repeat and CALIBRATORS[method].deterministic and first.exists():
                        copy_repeat(first, path, repeat)
                    elif (
                        kind == "num_aug"
                        and own.exists()
                        and params["num_aug"] == config.eval.num_aug
                    ):
                        write_csv(path, pd.read_csv(own).assign(setting=setting))
                    else:
                        pending[setting] = params
                _evaluate(fold, kind, method, repeat, pending, val, data, directory)
                frames += [
                    pd.read_csv(
                        directory / f"{method}_{setting}_r{repeat}.csv", dtype={"setting": str}
                    )
                    for m, setting, _ in settings
                    if m == method
                ]
    results = pd.concat(frames, ignore_index=True)
    write_csv(out / "results.csv", results)
    return results


def _evaluate(
    fold: Fold,
    kind: str,
    method: str,
    repeat: int,
    pending: dict[str, dict],
    val: list,
    data,
    directory: Path,
) -> None:
    """Score the pending settings of one (method, repeat) and write their per-case CSVs.

    ``num_aug`` settings share one loaded fit, scored scan by scan; component variants
    are fitted (or loaded) one by one.
    """
    if not pending:
        return
    if kind == "num_aug":
        path = calibrator_path(fold.directory, method, repeat)
        if not path.exists():
            raise OodcalibError(f"{path}: missing; finish `oodcalib run` on this directory first")
        calibrator = fold.calibrator(method, repeat, val)
        frames = fold.evaluate_settings(calibrator, method, repeat, data.test_domains, pending)
    else:
        frames = {}
        for setting, params in pending.items():
            label = method if setting == "both" else f"{method}-{setting}"
            calibrator = fold.calibrator(method, repeat, val, label=label, **params)
            frames[setting] = fold.evaluate(calibrator, method, repeat, data.test_domains)[0]
    for setting, frame in frames.items():
        write_csv(directory / f"{method}_{setting}_r{repeat}.csv", frame.assign(setting=setting))
