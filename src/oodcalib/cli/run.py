"""``oodcalib run``: the benchmark, from the data to the leaderboard, resumable."""

from __future__ import annotations

import time
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
    from oodcalib.benchmark.protocol.preflight import check_names
    from oodcalib.benchmark.protocol.runner import run_benchmark
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
            from oodcalib.cli.run_report import announce_cost, report

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
