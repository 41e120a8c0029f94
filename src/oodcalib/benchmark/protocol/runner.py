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

from oodcalib.atomic import DAMAGED, write_json, write_text
from oodcalib.benchmark.layout import (
    RESULT_COLUMNS,
    fold_files,
    read_per_case,
    run_loss,
    with_loss,
)
from oodcalib.benchmark.protocol.domains import check_domains
from oodcalib.benchmark.protocol.fold import run_fold
from oodcalib.benchmark.protocol.foreign_network import check_saved_outputs
from oodcalib.benchmark.protocol.hyperparameters import check_hyperparameters, run_losses
from oodcalib.benchmark.protocol.placement import resolve_run_device
from oodcalib.benchmark.protocol.preflight import check_model_size
from oodcalib.benchmark.protocol.provenance import write_environment
from oodcalib.benchmark.protocol.run_data import load_run_data
from oodcalib.config import PATH_KEYS, Config, absolute_path, validate_config
from oodcalib.datasets.domain_spec import refuse_changed_specs
from oodcalib.errors import DataError, OodcalibError, lookup
from oodcalib.plugins import load_plugins
from oodcalib.progress import progress
from oodcalib.run_lock import run_lock


def check_names(config: Config) -> None:
    """Fail fast, before any work, on names no registry holds (the error lists valid ones).

    Plugins are imported first, so the names they register are known.
    """
    from oodcalib.baselines import CALIBRATORS
    from oodcalib.corruptions import CORRUPTIONS
    from oodcalib.datasets import SOURCES
    from oodcalib.datasets.intensity import NORMALISATIONS
    from oodcalib.segmentation.losses import LOSSES
    from oodcalib.segmentation.networks import NETWORKS, split_model

    load_plugins(config.plugins)
    lookup(LOSSES, config.train.loss, "loss")
    for loss in config.train.losses:
        lookup(LOSSES, loss, "loss")
    lookup(SOURCES, config.data.source, "data source")
    for method in config.eval.methods:
        lookup(CALIBRATORS, method, "method")
    for name in config.eval.corruptions:
        lookup(CORRUPTIONS, name, "corruption")
    check_domains(config)
    check_hyperparameters(config)
    check_model_size(config)
    lookup(NORMALISATIONS, config.data.normalisation, "normalisation")
    for model in config.model.networks:
        lookup(NETWORKS, split_model(model)[0], "model kind")


def check_config(config: Config, run_dir: Path) -> None:
    """Refuse to resume a directory made with another config (``config.json``).

    The caller writes ``config.json`` once the run's data loaded, so a start that fails
    on its data never locks the directory.
    """
    path = run_dir / "config.json"
    new = json.loads(json.dumps(config.to_dict()))
    old = recorded_config(run_dir)
    if old is not None:
        if "plugins" not in old:
            raise OodcalibError(
                f"{path}: this run directory was made by oodcalib 0.1, whose files this "
                "version cannot resume (its fitted calibrators name modules that moved); "
                "use another --out. `oodcalib leaderboard` and `summary` still read it."
            )
        refuse_invalid_record(Config.from_dict(old), run_dir)
        # keys added since then take their defaults
        old = json.loads(json.dumps(Config.from_dict(old).to_dict()))
        for key in PATH_KEYS:  # older runs stored them as typed
            if old["data"].get(key) and new["data"].get(key):
                old["data"][key] = absolute_path(old["data"][key])
                new["data"][key] = absolute_path(new["data"][key])
        ignore = {"n_jobs", "backend"}  # placements; the device kind is checked before
        if not old["train"].get("num_threads"):  # made before the count was recorded
            old["train"]["num_threads"] = new["train"]["num_threads"]
        refuse_changed_specs(old["eval"].get("domains") or {}, new["eval"]["domains"], str(path))
        diff = sorted(_flat(old).items() ^ _flat(new).items())
        keys = sorted(
            {
                k
                for k, _ in diff
                if k.split(".")[-1] not in ignore
                and not _adds_losses(old, new, k)
                and not k.startswith("eval.domains.")
            }
        )
        if keys:
            raise OodcalibError(
                f"{path}: this run directory was made with a different configuration "
                f"(differs in {', '.join(keys)}); use another --out or the same settings"
            )


def refuse_invalid_record(recorded: Config, run_dir: Path) -> None:
    """Refuse a directory whose ``config.json`` fails today's checks, saying why and what to do.

    Such a record comes from a start that an older version let through (``train.lr=inf``)
    and that failed after writing it: nothing in the directory can be resumed, and
    comparing it with a corrected command would only list the corrected keys.
    """
    try:
        validate_config(recorded)
    except OodcalibError as error:
        reason = " ".join(str(error).replace("invalid configuration:", "").split())
        raise OodcalibError(
            f"{Path(run_dir) / 'config.json'}: this run directory records a configuration "
            f"that is not valid ({reason}), written by a start that failed later; nothing in "
            f"it can be resumed: delete {run_dir} or use another --out"
        ) from None


def recorded_config(run_dir: Path) -> dict | None:
    """The run directory's ``config.json`` as written (None before the first start).

    Raises:
        DataError: The file is unreadable or not a JSON object; it is the record of the
            run, so it is never guessed.
    """
    path = Path(run_dir) / "config.json"
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text())
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as error:
        raise DataError(
            path,
            f"damaged run configuration ({error}); it is the record of "
            "the run, so restore it or use another --out",
        ) from None
    return raw


def resolve_threads(config: Config, run_dir: Path) -> None:
    """Fix ``train.num_threads`` (0: this process's torch threads, or the run's recorded ones).

    Every job of the run then uses that many torch threads, so serial, ``--jobs`` and dask
    runs compute the same numbers, and a resume keeps the count of the run.
    """
    if config.train.num_threads:
        return
    import torch

    recorded = (recorded_config(run_dir) or {}).get("train", {}).get("num_threads", 0)
    config.train.num_threads = recorded or torch.get_num_threads()


def merged_domains(config: Config, run_dir: Path) -> None:
    """Add the extra test domains the run already has (``config.json``) to ``config``.

    A rerun without ``--domain`` keeps the domains an earlier command added.
    """
    old = recorded_config(run_dir)
    if old is not None:
        config.eval.domains = {**Config.from_dict(old).eval.domains, **config.eval.domains}


def _adds_losses(old: dict, new: dict, key: str) -> bool:
    """Whether ``key`` differs only because a loss grid gained losses (which is resumable).

    Cells of the old losses stay valid; the new losses (and their own
    ``train.loss_params.<loss>`` sections) just add cells.
    """
    before, after = old["train"].get("losses") or [], new["train"]["losses"]
    if not before or not set(before) < set(after):
        return False
    added = set(after) - set(before)
    return key == "train.losses" or any(
        key.startswith(f"train.loss_params.{loss}.") for loss in added
    )


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and k != "label_map":
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = json.dumps(v, sort_keys=True)
    return out


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
        files = [p for paths in cells for p in paths]
    collect_timings(run_dir)
    return collect_results(run_dir, files)


def collect_timings(run_dir: Path) -> dict[str, dict[str, float]]:
    """Gather the cells' ``timings.json`` into ``run_dir/timings.json``: seconds per stage.

    Keys are ``fold<k>``, or ``<loss>/fold<k>`` in a loss grid.
    """
    timings = {
        _cell_name(run_dir, path.parent): json.loads(path.read_text())
        for path in fold_files(run_dir, "timings.json")
    }
    write_json(Path(run_dir) / "timings.json", timings)
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
