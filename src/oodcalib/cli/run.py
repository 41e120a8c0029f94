"""Commands that run the benchmark or inspect its inputs: run, summary, corrupt, list."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from oodcalib.cli.options import (
    DataOpt,
    DeviceOpt,
    DomainOpt,
    ExcludeOpt,
    LgeOpt,
    PluginOpt,
    RootOpt,
    SetOpt,
    _close_client,
    _config,
    _dask_client,
    _domains,
    _fail,
    _gpu_client,
    _names,
    _select_device,
    _writable,
)


def run(
    preset: Annotated[str, typer.Option(help="smoke, quick or paper.")] = "quick",
    data: DataOpt = "phantom",
    data_root: RootOpt = None,
    lge_root: LgeOpt = None,
    out: Annotated[Path | None, typer.Option(help="Run directory.")] = None,
    set_: SetOpt = None,
    seed: Annotated[int | None, typer.Option(help="Seed of everything.")] = None,
    jobs: Annotated[int, typer.Option(help="Folds run in parallel.")] = 1,
    backend: Annotated[str, typer.Option(help="joblib backend: loky or dask.")] = "loky",
    scheduler: Annotated[str | None, typer.Option(help="dask scheduler address.")] = None,
    plugin: PluginOpt = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Stop when labelled classes look swapped (RV/LV...), instead of "
            "warning (data.strict_labels).",
        ),
    ] = False,
    losses: Annotated[
        str | None,
        typer.Option(
            help="Loss grid: one segmentation net per (loss, fold), e.g. dice_ce,nacl,hl1ace "
            "(`oodcalib list` names them; same as --set train.losses=...)."
        ),
    ] = None,
    domain: DomainOpt = None,
    exclude_patients: ExcludeOpt = False,
    device: DeviceOpt = "auto",
    deterministic: Annotated[
        bool,
        typer.Option(
            "--deterministic",
            help="Deterministic GPU algorithms (cudnn.deterministic, no cudnn.benchmark): "
            "bit-for-bit repeatable on one GPU and software stack, slower (recorded).",
        ),
    ] = False,
    gpus: Annotated[
        int,
        typer.Option(
            help="Spread the (loss, fold) cells over this many GPUs, one dask worker per "
            "GPU (dask-cuda's LocalCUDACluster if installed); implies --device cuda.",
        ),
    ] = 0,
    html_report: Annotated[
        bool,
        typer.Option(
            "--report",
            help="End by writing RUN_DIR/report.html (as `oodcalib report`) and printing its path.",
        ),
    ] = False,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            help="Your own network instead of training the U-Net, one per fold (repeatable): "
            "torchscript:FILE (with FILE.json), nnunet:FOLDER (add ,fold=F or ,checkpoint=NAME) or "
            "predictions:DIR (docs/your-own-network.md).",
        ),
    ] = None,
    calibration: Annotated[
        Path | None,
        typer.Option(
            "--calibration",
            help="With --model: the calibration patients, a patient list (one id a line) or "
            "a split file (a run's splits.json layout, one fold per --model).",
        ),
    ] = None,
) -> None:
    """Run (or resume) the benchmark: train, calibrate, evaluate, summarise."""
    from oodcalib.benchmark.protocol.runner import check_names, run_benchmark
    from oodcalib.errors import OodcalibError
    from oodcalib.run_lock import run_lock

    try:
        grid = [f"train.losses={losses}"] if losses else []
        grid += ["data.strict_labels=true"] if strict else []
        if gpus:
            if device not in ("auto", "cuda") or jobs != 1 or backend != "loky" or scheduler:
                raise ValueError(
                    f"--gpus {gpus} chooses the device, jobs and backend itself (cuda, one job "
                    "per GPU, dask); leave out --device, --jobs, --backend and --scheduler"
                )
            device, jobs, backend = "cuda", gpus, "dask"
        # the options given (not left at their defaults) are keys too, checked with --set's
        options = [f"n_jobs={jobs}"] if jobs != 1 else []
        options += [f"backend={backend}"] if backend != "loky" else []
        options += [f"device={device}"] if device != "auto" else []
        options += ["deterministic=true"] if deterministic else []  # validated with the rest
        config = _config(
            preset, data, data_root, lge_root, [*grid, *(set_ or []), *options], seed, plugin
        )
        backend = config.backend  # a --set backend=dask counts as --backend dask
        config.eval.domains.update(_domains(domain, exclude_patients))
        if model:
            from oodcalib.benchmark.protocol.foreign_network import configure_networks

            for note in configure_networks(
                config, model, str(calibration) if calibration else None
            ):
                typer.echo(note)
        elif calibration:
            raise ValueError("--calibration names the calibration patients of --model networks")
        run_dir = _writable(
            out or Path("results") / "runs" / f"{preset}-{config.data.source}-seed{config.seed}",
            "run directory",
        )
        chosen = _select_device(run_dir, config.device)  # a missing device: before any work
        if scheduler and backend != "dask":
            raise ValueError(f"--scheduler {scheduler} needs --backend dask")
        if gpus:
            from oodcalib.segmentation.device import resolve_device

            resolve_device("cuda")  # a one-line error, before any worker starts
        check_names(config)  # a refused start creates no run directory
        with run_lock(run_dir):  # one writer per run directory, until the report is out
            client = (
                (_gpu_client(gpus) if gpus else _dask_client(scheduler))
                if backend == "dask"
                else None
            )
            typer.echo(f"run directory: {run_dir}")
            if chosen.type == "cpu" and not model:  # the cost model measures this CPU's U-Net
                announce_cost(config, run_dir)
            start = time.perf_counter()
            results = run_benchmark(config, run_dir)
            report(run_dir, results, time.perf_counter() - start)
            if html_report:
                from oodcalib.cli.report import write_run_report

                typer.echo(f"\nreport: {write_run_report(run_dir)}")
    except (OodcalibError, ValueError, OSError) as error:
        _fail(error)
    finally:
        if backend == "dask" and "client" in locals() and client is not None:
            _close_client(client)


def announce_cost(config, run_dir: Path, min_steps: int = 2000) -> None:
    """Print the predicted time of the cells still to train, if it is long.

    A run that resumes predicts from its finished cells' measured ``timings.json`` (every
    stage included). A fresh one uses ``oodcalib speed``'s micro-benchmark of the network
    (best of 3 calls), and says so when the machine is busy, since a loaded CPU slows such
    short timings far more than a long run. Nothing is measured for runs of fewer than
    ``min_steps`` pending training steps.
    """
    import json
    import os

    from oodcalib.benchmark.protocol.fold import cell_dir
    from oodcalib.benchmark.protocol.hyperparameters import run_losses

    losses = run_losses(config)
    cells = [
        cell_dir(config, run_dir, k, loss) for loss in losses for k in range(config.data.n_folds)
    ]
    pending = [c for c in cells if not (c / "checkpoint.pt").exists()]
    if len(pending) * config.train.iterations < min_steps:
        return
    finished = [c / "timings.json" for c in cells if (c / "timings.json").is_file()]
    if finished:
        seconds = [sum(json.loads(p.read_text()).values()) for p in finished]
        per_cell = sum(seconds) / len(seconds) / 60
        typer.echo(
            f"{len(pending)} of {len(cells)} (loss, fold) cells to train; predicted from the "
            f"{len(finished)} finished cells ({per_cell:.1f} min each, every stage): "
            f"{len(pending) * per_cell:.0f} min"
        )
        return
    from oodcalib.benchmark.protocol.cost_model import (
        measured_rates,
        predict_seconds,
        source_counts,
    )

    stages = predict_seconds(config, measured_rates(config, repeats=3), **source_counts(config))
    minutes = {k: v / 60 * len(pending) / len(cells) for k, v in stages.items()}
    detail = ", ".join(f"{k} {v:.0f}" for k, v in minutes.items() if v >= 0.5)
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    busy = (
        f"; the machine is busy (load {load:.1f} on {cores} cores), so this may be far too long"
        if load > cores
        else ""
    )
    typer.echo(
        f"{len(pending)} of {len(cells)} (loss, fold) cells to train; predicted "
        f"segmentation-network time on this machine: {sum(minutes.values()):.0f} min "
        f"({detail}); calibrator nets, metrics and I/O come on top "
        f"(`oodcalib speed` explains the estimate){busy}"
    )


def report(run_dir: Path, results, seconds: float, command: str = "") -> None:
    """Write and print the summary, the leaderboard (when LTS ran) and the stage timings.

    ``command`` names a command other than ``run`` whose time the stage table now holds
    (``evaluate`` adds the scoring of its new domains to the run's stages).
    """
    from oodcalib.atomic import write_csv
    from oodcalib.benchmark.reporting.summary import format_summary, summary_table
    from oodcalib.metrics import METRICS, headline_metrics

    names = _names(run_dir)
    table = summary_table(results, list(METRICS), **names)  # every metric in the CSV
    write_csv(run_dir / "summary.csv", table)
    typer.echo(format_summary(table[table["metric"].isin(headline_metrics())]))
    typer.echo(f"\n{len(results)} per-case rows in {run_dir / 'results.csv'} ({seconds:.0f} s)")
    from oodcalib.cli.report import default_reference

    reference = default_reference(results)
    if reference:
        from oodcalib.benchmark.names import display_name
        from oodcalib.benchmark.reporting.leaderboard import write_leaderboard

        _, md_path = write_leaderboard(run_dir, reference, **names)
        typer.echo(f"\n{md_path.read_text(encoding='utf-8')}")
        typer.echo(
            f"leaderboard (significance against "
            f"{display_name(reference, names['names'])}): {md_path.with_suffix('.csv')}"
        )
    from oodcalib.benchmark.reporting.convergence import TAIL, TOLERANCE, convergence_table

    convergence = convergence_table(run_dir)
    if not convergence.empty:
        write_csv(run_dir / "convergence.csv", convergence)
        typer.echo(
            f"\n{int(convergence['converged'].sum())} of {len(convergence)} networks converged "
            f"(validation Dice gained < {TOLERANCE} over the last {TAIL * 100:.0f} % of "
            f"iterations; {run_dir / 'convergence.csv'})"
        )
    from oodcalib.benchmark.reporting.timings import format_timings, timings_table

    added = (
        f"; it includes this {command}'s {seconds / 60:.2f} min, added to the stages it ran "
        "(every command that computes on the run adds its time there)"
        if command
        else ""
    )
    typer.echo(
        f"\nminutes per stage ({run_dir / 'timings.json'}{added}):\n"
        f"{format_timings(timings_table(run_dir))}"
    )


def summary(
    run_dir: Path,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            help="Metric(s): repeat the option or comma-separate (e.g. ace,hd95,micro_ace); "
            "the headline metrics (ece, sce, dice) if unset."
        ),
    ] = None,
) -> None:
    """Print the summary table of a finished (or partial) run directory."""
    from oodcalib.benchmark.protocol.runner import collect_results
    from oodcalib.benchmark.reporting.dataset_metrics import with_dataset_metrics
    from oodcalib.benchmark.reporting.summary import format_summary, summary_table
    from oodcalib.errors import OodcalibError
    from oodcalib.run_lock import unless_locked

    metrics = [m.strip() for value in metric or [] for m in value.split(",") if m.strip()]
    try:
        with unless_locked(run_dir) as free:  # a running run's files are only read
            names = _names(run_dir)
            results = with_dataset_metrics(collect_results(run_dir, write=free), run_dir)
        absent = sorted(set(metrics) - set(results["metric"]))
        if absent:
            raise OodcalibError(
                f"metric(s) {', '.join(absent)} not in {run_dir}; present: "
                f"{', '.join(sorted(results['metric'].unique()))}"
            )
        typer.echo(format_summary(summary_table(results, metrics or None, **names)))
    except OodcalibError as error:
        _fail(error)


def corrupt(
    out: Annotated[Path, typer.Option(help="Output folder for NIfTI files.")],
    data: DataOpt = "phantom",
    data_root: RootOpt = None,
    corruption: Annotated[
        list[str] | None, typer.Option(help="Corruption(s); all if unset.")
    ] = None,
    severity: Annotated[int, typer.Option(help="Severity 1-5 (3 = reference).")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the corruptions.")] = 0,
    cases: Annotated[int, typer.Option(help="Number of cases to write.")] = 3,
    size: Annotated[int, typer.Option(help="In-plane crop size.")] = 192,
    plugin: PluginOpt = None,
    set_: SetOpt = None,
) -> None:
    """Write corrupted NIfTI volumes (and their sampled parameters) for inspection."""
    from oodcalib.corruptions import CORRUPTIONS, get_corruption, write_corrupted_nifti
    from oodcalib.datasets import load_source
    from oodcalib.datasets.preprocessing import prepare_case
    from oodcalib.errors import OodcalibError

    try:
        _writable(out, "output folder")
        config = _config(
            "paper",
            data,
            data_root,
            None,
            [f"data.size={size}", f"data.phantom_cases={cases}", *(set_ or [])],
            seed,
            plugin,
        )
        names = list(corruption or CORRUPTIONS)
        for name in names:
            get_corruption(name)
        loaded = load_source(config.data, config.seed)[:cases]
        prepared = [prepare_case(c, size, config.data.spacing) for c in loaded]
        paths = write_corrupted_nifti(prepared, names, severity, seed, out)
    except (OodcalibError, ValueError) as error:
        _fail(error)
    typer.echo(f"wrote {len(paths)} files under {out}")


def list_names(plugin: PluginOpt = None) -> None:
    """List presets, data sources, methods, corruptions, losses, metrics and model kinds."""
    from oodcalib.baselines import CALIBRATORS
    from oodcalib.config import PRESETS
    from oodcalib.corruptions import CORRUPTIONS
    from oodcalib.datasets import SOURCES
    from oodcalib.errors import OodcalibError
    from oodcalib.metrics import METRICS
    from oodcalib.plugins import load_plugins
    from oodcalib.segmentation.losses import LOSSES
    from oodcalib.segmentation.networks import NETWORKS

    try:
        load_plugins(plugin or [])
    except OodcalibError as error:
        _fail(error)
    registries: list[tuple[str, Iterable[str]]] = [
        ("presets", PRESETS),
        ("data sources", SOURCES),
        ("methods", CALIBRATORS),
        ("corruptions", CORRUPTIONS),
        ("losses", LOSSES),
        ("metrics", METRICS),
        ("model kinds (--model KIND:SPEC)", NETWORKS),
    ]
    for title, names in registries:
        typer.echo(f"{title}: {', '.join(names)}")
