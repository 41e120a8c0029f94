"""Ablations of a finished run (paper Table 2), reusing its models, fits and cached passes.

- ``num_aug``: the fitted Alea. and Proposed calibrators of every fold and repeat are
  re-evaluated with ``N_A`` test-time passes; the passes come from the fold's pass cache,
  so only counts above the largest cached one cost new forward passes.
- ``components``: Proposed with the susceptibility and/or shape-prior inputs switched
  off. ``both`` is the run's own Proposed fit; the others are fitted with the same seeds.

Outputs go to ``run_dir/ablation/{kind}/``: per-case CSVs per fold (``per_case/``), the
tidy ``results.csv`` (with a ``setting`` column), and ``table.csv`` / ``table.md``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from oodcalib.baselines import DISPLAY_NAMES
from oodcalib.benchmark.domains import load_run_data
from oodcalib.benchmark.evaluation import Fold, write_csv
from oodcalib.config import Config
from oodcalib.errors import OodcalibError

#: Component switches of the Proposed calibrator, as in paper Table 2.
COMPONENTS: dict[str, dict[str, bool]] = {
    "neither": {"susceptibility": False, "shape_prior": False},
    "susceptibility": {"susceptibility": True, "shape_prior": False},
    "shape": {"susceptibility": False, "shape_prior": True},
    "both": {"susceptibility": True, "shape_prior": True},
}
#: Methods whose test-time behaviour depends on N_A.
NUM_AUG_METHODS = ("alea", "proposed")


def _settings(kind: str, values: list[int] | None, config: Config) -> list[tuple[str, str, dict]]:
    """(method, setting, params) triples of an ablation."""
    if kind == "num_aug":
        counts = values or config.eval.ablation_num_aug
        if any(n < 1 for n in counts):
            raise OodcalibError(f"--num-aug values must be >= 1, got {counts}")
        methods = [m for m in NUM_AUG_METHODS if m in config.eval.methods]
        return [(m, str(n), {"num_aug": n}) for m in methods for n in counts]
    if kind == "components":
        return [("proposed", name, switches) for name, switches in COMPONENTS.items()]
    raise OodcalibError(f"unknown ablation {kind!r}; valid: num_aug, components")


def run_ablation(run_dir: Path, kind: str, values: list[int] | None = None) -> pd.DataFrame:
    """Run (or resume) an ablation of ``run_dir`` and write its tables.

    Args:
        run_dir: A run directory made by ``oodcalib run``.
        kind: ``"num_aug"`` or ``"components"``.
        values: ``N_A`` values (``num_aug`` only); default: the config's
            ``eval.ablation_num_aug``.

    Returns:
        The tidy results with a ``setting`` column.
    """
    run_dir = Path(run_dir)
    config_path = run_dir / "config.json"
    if not config_path.exists():
        raise OodcalibError(f"{config_path}: missing; is {run_dir} a run directory?")
    config = Config.load(config_path)
    settings = _settings(kind, values, config)
    out = run_dir / "ablation" / kind
    data = load_run_data(config, run_dir)
    frames = []
    for fold_spec in data.splits["folds"]:
        fold = Fold.open(config, run_dir, fold_spec["fold"])
        val = [fold.store.get("val", c) for c in data.cases(fold_spec["val"])]
        try:
            for method, setting, params in settings:
                for repeat in range(config.eval.repeats):
                    name = f"{method}_{setting}_r{repeat}.csv"
                    path = out / "per_case" / f"fold{fold.index}" / name
                    if not path.exists():
                        calibrator = _calibrator(fold, kind, method, setting, params, repeat, val)
                        frame = fold.evaluate(calibrator, method, repeat, data.test_domains)
                        write_csv(frame.assign(setting=setting), path)
                    frames.append(pd.read_csv(path, dtype={"setting": str}))
        finally:
            fold.save_counts()
    results = pd.concat(frames, ignore_index=True)
    results.to_csv(out / "results.csv", index=False)
    table = ablation_table(results)
    table.to_csv(out / "table.csv", index=False)
    (out / "table.md").write_text(ablation_markdown(table, kind) + "\n")
    return results


def _calibrator(fold: Fold, kind: str, method: str, setting: str, params: dict, repeat: int,
                val: list):
    """The fitted calibrator of one ablation cell (refits only component variants)."""
    if kind == "num_aug":
        path = fold.directory / "calibrators" / f"{method}_r{repeat}.pt"
        if not path.exists():
            raise OodcalibError(f"{path}: missing; finish `oodcalib run` on this directory first")
        return fold.calibrator(method, repeat, val).set_params(**params)
    label = method if setting == "both" else f"{method}-{setting}"
    return fold.calibrator(method, repeat, val, label=label, **params)


def ablation_table(results: pd.DataFrame) -> pd.DataFrame:
    """Mean ECE/SCE/Dice per (method, setting) and domain, with ``artifact avg``.

    The artifact average is taken per scan over the artifact domains, then averaged.
    """
    frame = results[results["metric"].isin(["ece", "sce", "dice"])]
    wide = frame.pivot_table(index=["method", "setting", "metric", "fold", "repeat", "case"],
                             columns="domain", values="value")
    artifacts = [d for d in wide.columns if d not in ("clean", "lge", "val")]
    wide["artifact avg"] = wide[artifacts].mean(axis=1, skipna=False)
    table = wide.groupby(level=["method", "setting", "metric"], sort=False).mean()
    table.columns.name = None
    table = table.reset_index()
    order = table["setting"].map(lambda v: (0, int(v), "") if str(v).isdigit() else (1, 0, v))
    return table.assign(_order=order).sort_values(["method", "_order"], kind="stable").drop(
        columns="_order").reset_index(drop=True)


def ablation_markdown(table: pd.DataFrame, kind: str) -> str:
    """Table-2 layout: one row per setting, artifact-avg ECE / SCE (and clean, LGE) in %."""
    title = "N_A" if kind == "num_aug" else "components"
    head = f"| method | {title} | artifact avg ECE | artifact avg SCE | clean ECE | LGE ECE |"
    lines = [head, "|---|---|---|---|---|---|"]
    wide = table.pivot_table(index=["method", "setting"], columns="metric",
                             values=["artifact avg", "clean", "lge"], sort=False)
    for (method, setting), row in wide.iterrows():
        cells = [row.get((col, m), float("nan")) * 100 for col, m in
                 [("artifact avg", "ece"), ("artifact avg", "sce"), ("clean", "ece"),
                  ("lge", "ece")]]
        shown = " | ".join(f"{v:.2f}" for v in cells)
        lines.append(f"| {DISPLAY_NAMES.get(method, method)} | {setting} | {shown} |")
    return "\n".join(lines)
