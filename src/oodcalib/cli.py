"""Command-line interface (Typer). Heavy imports live inside the commands."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="oodcalib: calibration of segmentation networks on out-of-domain MRI.")

DataOpt = Annotated[str, typer.Option("--data", help="Training data: phantom, acdc or nifti.")]
RootOpt = Annotated[Path | None, typer.Option("--data-root", help="ACDC folder (--data acdc).")]
LgeOpt = Annotated[Path | None, typer.Option("--lge-root", help="MS-CMRSeg LGE folder.")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Config override key=value.")]


def _config(preset: str, data: str, data_root: Path | None, lge_root: Path | None,
            overrides: list[str] | None, seed: int | None):
    from oodcalib.config import build_config

    extra = [f"data.source={data}"]
    if data_root is not None:
        extra.append(f"data.root={data_root}")
    if lge_root is not None:
        extra.append(f"data.lge_root={lge_root}")
    if seed is not None:
        extra.append(f"seed={seed}")
    config = build_config(preset, [*extra, *(overrides or [])])
    for key in ("root", "lge_root"):  # keep paths as typed strings
        value = getattr(config.data, key)
        if value is not None:
            setattr(config.data, key, str(value))
    return config


def _fail(error: Exception) -> None:
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


@app.command()
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
) -> None:
    """Run (or resume) the benchmark: train, calibrate, evaluate, summarise."""
    from oodcalib.benchmark.runner import run_benchmark
    from oodcalib.benchmark.summary import format_summary, summary_table
    from oodcalib.errors import OodcalibError

    try:
        config = _config(preset, data, data_root, lge_root, set_, seed)
        config.n_jobs, config.backend = jobs, backend
        run_dir = out or Path("results") / "runs" / f"{preset}-{data}-seed{config.seed}"
        client = _dask_client(scheduler) if backend == "dask" else None
        typer.echo(f"run directory: {run_dir}")
        start = time.perf_counter()
        results = run_benchmark(config, run_dir)
    except (OodcalibError, ValueError, FileNotFoundError) as error:
        _fail(error)
    finally:
        if backend == "dask" and "client" in locals() and client is not None:
            client.close()
    typer.echo(format_summary(summary_table(results)))
    typer.echo(f"\n{len(results)} per-case rows in {run_dir / 'results.csv'} "
               f"({time.perf_counter() - start:.0f} s)")


def _dask_client(address: str | None):
    try:
        from dask.distributed import Client
    except ImportError as error:  # pragma: no cover - optional dependency
        raise ValueError("backend 'dask' needs: pip install 'oodcalib[distributed]'") from error
    return Client(address) if address else Client(processes=True)


@app.command()
def summary(run_dir: Path) -> None:
    """Print the summary table of a finished (or partial) run directory."""
    from oodcalib.benchmark.runner import collect_results
    from oodcalib.benchmark.summary import format_summary, summary_table
    from oodcalib.errors import OodcalibError

    try:
        typer.echo(format_summary(summary_table(collect_results(run_dir))))
    except OodcalibError as error:
        _fail(error)


@app.command()
def corrupt(
    out: Annotated[Path, typer.Option(help="Output folder for NIfTI files.")],
    data: DataOpt = "phantom",
    data_root: RootOpt = None,
    corruption: Annotated[list[str] | None, typer.Option(help="Corruption(s); all if unset.")]
    = None,
    severity: Annotated[int, typer.Option(help="Severity 1-5 (3 = reference).")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the corruptions.")] = 0,
    cases: Annotated[int, typer.Option(help="Number of cases to write.")] = 3,
    size: Annotated[int, typer.Option(help="In-plane crop size.")] = 192,
) -> None:
    """Write corrupted NIfTI volumes (and their sampled parameters) for inspection."""
    from oodcalib.benchmark.domains import load_source_domain
    from oodcalib.corruptions import CORRUPTIONS, get_corruption, write_corrupted_nifti
    from oodcalib.datasets.preprocessing import prepare_case
    from oodcalib.errors import OodcalibError

    try:
        names = list(corruption or CORRUPTIONS)
        for name in names:
            get_corruption(name)
        config = _config("paper", data, data_root, None,
                         [f"data.size={size}", f"data.phantom_cases={cases}"], seed)
        loaded = load_source_domain(config)[:cases]
        prepared = [prepare_case(c, size, config.data.spacing) for c in loaded]
        paths = write_corrupted_nifti(prepared, names, severity, seed, out)
    except (OodcalibError, ValueError) as error:
        _fail(error)
    typer.echo(f"wrote {len(paths)} files under {out}")


@app.command(name="list")
def list_names() -> None:
    """List presets, data sources, methods, corruptions and losses."""
    from oodcalib.baselines import CALIBRATORS
    from oodcalib.benchmark.losses import LOSSES
    from oodcalib.config import PRESETS
    from oodcalib.corruptions import CORRUPTIONS
    from oodcalib.datasets import SOURCES

    for title, names in [("presets", PRESETS), ("data sources", SOURCES),
                         ("methods", CALIBRATORS), ("corruptions", CORRUPTIONS),
                         ("losses", LOSSES)]:
        typer.echo(f"{title}: {', '.join(names)}")


if __name__ == "__main__":  # pragma: no cover
    app()
