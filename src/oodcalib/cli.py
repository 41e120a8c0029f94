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
PluginOpt = Annotated[list[str] | None, typer.Option(
    "--plugin", help="Python file or module that adds calibrators, losses, metrics, "
    "corruptions or data sources to the registries (repeatable).")]
#: Values that follow a list option without repeating it (``--num-aug 15 45 90``): click
#: hands them over as extra positional arguments after RUN_DIR.
MoreOpt = Annotated[list[str] | None, typer.Argument(hidden=True, show_default=False)]


def _config(preset: str, data: str, data_root: Path | None, lge_root: Path | None,
            overrides: list[str] | None, seed: int | None, plugins: list[str] | None = None):
    from oodcalib.config import build_config
    from oodcalib.plugins import load_plugins

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
    config.plugins = [*config.plugins, *(plugins or [])]
    load_plugins(config.plugins)
    return config


def _names(run_dir: Path) -> dict:
    """Display names and orders for reporting: the registries, the run's domains."""
    from oodcalib.benchmark.protocol.names import domain_names, method_names
    from oodcalib.config import Config
    from oodcalib.plugins import load_plugins

    config = None
    if (Path(run_dir) / "config.json").is_file():
        config = Config.load(Path(run_dir) / "config.json")
        load_plugins(config.plugins)
    return {"names": method_names(), "domains": domain_names(config)}


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
    plugin: PluginOpt = None,
) -> None:
    """Run (or resume) the benchmark: train, calibrate, evaluate, summarise."""
    from oodcalib.atomic import write_csv
    from oodcalib.benchmark.protocol.runner import run_benchmark
    from oodcalib.benchmark.reporting.summary import format_summary, summary_table
    from oodcalib.errors import OodcalibError

    try:
        config = _config(preset, data, data_root, lge_root, set_, seed, plugin)
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
    names = _names(run_dir)
    table = summary_table(results, **names)
    write_csv(run_dir / "summary.csv", table)
    typer.echo(format_summary(table))
    typer.echo(f"\n{len(results)} per-case rows in {run_dir / 'results.csv'} "
               f"({time.perf_counter() - start:.0f} s)")
    if "lts" in set(results["method"]) and results["method"].nunique() > 1:
        from oodcalib.benchmark.reporting.leaderboard import write_leaderboard

        _, md_path = write_leaderboard(run_dir, **names)
        typer.echo(f"\n{md_path.read_text(encoding='utf-8')}")
        typer.echo(f"leaderboard (significance against LTS): {md_path.with_suffix('.csv')}")


def _dask_client(address: str | None):
    try:
        from dask.distributed import Client
    except ImportError as error:  # pragma: no cover - optional dependency
        raise ValueError("backend 'dask' needs: pip install 'oodcalib[distributed]'") from error
    return Client(address) if address else Client(processes=True)


@app.command()
def summary(run_dir: Path) -> None:
    """Print the summary table of a finished (or partial) run directory."""
    from oodcalib.benchmark.protocol.runner import collect_results
    from oodcalib.benchmark.reporting.summary import format_summary, summary_table
    from oodcalib.errors import OodcalibError

    try:
        names = _names(run_dir)
        typer.echo(format_summary(summary_table(collect_results(run_dir), **names)))
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
    plugin: PluginOpt = None,
) -> None:
    """Write corrupted NIfTI volumes (and their sampled parameters) for inspection."""
    from oodcalib.corruptions import CORRUPTIONS, get_corruption, write_corrupted_nifti
    from oodcalib.datasets import load_source
    from oodcalib.datasets.preprocessing import prepare_case
    from oodcalib.errors import OodcalibError

    try:
        config = _config("paper", data, data_root, None,
                         [f"data.size={size}", f"data.phantom_cases={cases}"], seed, plugin)
        names = list(corruption or CORRUPTIONS)
        for name in names:
            get_corruption(name)
        loaded = load_source(config)[:cases]
        prepared = [prepare_case(c, size, config.data.spacing) for c in loaded]
        paths = write_corrupted_nifti(prepared, names, severity, seed, out)
    except (OodcalibError, ValueError) as error:
        _fail(error)
    typer.echo(f"wrote {len(paths)} files under {out}")


@app.command()
def ablate(
    run_dir: Path,
    num_aug: Annotated[list[int] | None, typer.Option(
        "--num-aug", help="Test-time passes N_A to compare (repeat the option, or list them "
        "after one --num-aug).")] = None,
    components: Annotated[bool, typer.Option(
        "--components", help="Switch Proposed's susceptibility / shape-prior inputs off.")]
    = False,
    more: MoreOpt = None,
) -> None:
    """Ablate a finished run (paper Table 2), reusing its models, fits and cached passes."""
    from oodcalib.benchmark.protocol.ablation import run_ablation
    from oodcalib.benchmark.protocol.layout import ablation_dir
    from oodcalib.benchmark.reporting.ablation_table import write_ablation_tables
    from oodcalib.errors import OodcalibError

    if more:
        if not num_aug or not all(v.isdigit() for v in more):
            _fail(ValueError(f"unexpected arguments {more}; N_A values follow --num-aug"))
        num_aug = [*num_aug, *map(int, more)]

    if not num_aug and not components:
        _fail(ValueError("choose --num-aug N [N ...] and/or --components"))
    try:
        kinds = [("num_aug", num_aug)] if num_aug else []
        kinds += [("components", None)] if components else []
        for kind, values in kinds:
            results = run_ablation(run_dir, kind, values)
            csv_path, md_path = write_ablation_tables(results, ablation_dir(run_dir, kind),
                                                      kind, _names(run_dir)["names"])
            typer.echo(md_path.read_text())
            typer.echo(f"wrote {md_path} and {csv_path}")
    except (OodcalibError, ValueError) as error:
        _fail(error)


@app.command()
def figures(
    run_dir: Path,
    case: Annotated[str, typer.Option(help="Test case id (see results.csv).")],
    domain: Annotated[str, typer.Option(help="clean, bias_field, motion, ghosting, spike, lge.")],
    fold: Annotated[int, typer.Option(help="Fold whose models are used.")] = 0,
    repeat: Annotated[int, typer.Option(help="Calibrator repeat.")] = 0,
    method: Annotated[list[str] | None, typer.Option(help="Method(s); all if unset.")] = None,
    slice_index: Annotated[int | None, typer.Option(
        "--slice", help="Slice of the entropy/error figure (default: largest heart).")] = None,
) -> None:
    """Reliability diagrams, confidence histograms and entropy-vs-error maps of one case."""
    from oodcalib.benchmark.protocol.case_view import case_probabilities
    from oodcalib.benchmark.reporting.figures import case_figures
    from oodcalib.errors import OodcalibError

    try:
        scan, probs = case_probabilities(run_dir, case, domain, fold, repeat, method)
        paths = case_figures(probs, scan.image, scan.label, run_dir / "figures",
                             f"{domain}_{case}_fold{fold}_r{repeat}", slice_index,
                             names=_names(run_dir)["names"])
    except (OodcalibError, ValueError) as error:
        _fail(error)
    for path in paths:
        typer.echo(f"wrote {path}")


@app.command(name="list")
def list_names(plugin: PluginOpt = None) -> None:
    """List presets, data sources, methods, corruptions, losses and metrics."""
    from oodcalib.baselines import CALIBRATORS
    from oodcalib.benchmark.metrics import METRICS
    from oodcalib.benchmark.segmentation.losses import LOSSES
    from oodcalib.config import PRESETS
    from oodcalib.corruptions import CORRUPTIONS
    from oodcalib.datasets import SOURCES
    from oodcalib.errors import OodcalibError
    from oodcalib.plugins import load_plugins

    try:
        load_plugins(plugin or [])
    except OodcalibError as error:
        _fail(error)
    for title, names in [("presets", PRESETS), ("data sources", SOURCES),
                         ("methods", CALIBRATORS), ("corruptions", CORRUPTIONS),
                         ("losses", LOSSES), ("metrics", METRICS)]:
        typer.echo(f"{title}: {', '.join(names)}")


@app.command()
def leaderboard(
    run_dir: Path,
    reference: Annotated[str, typer.Option(help="Method the others are tested against.")]
    = "lts",
    metric: Annotated[list[str] | None, typer.Option(
        help="Metric(s): repeat the option or comma-separate; the headline metrics "
        "(ece, sce, dice) if unset.")]
    = None,
    test: Annotated[str, typer.Option(help="Paired test: wilcoxon or ttest.")] = "wilcoxon",
    holm: Annotated[bool, typer.Option(help="Holm-correct within each metric and domain.")]
    = False,
    out: Annotated[Path | None, typer.Option(help="CSV path (RUN_DIR/leaderboard.csv).")]
    = None,
    more: MoreOpt = None,
) -> None:
    """Test every method against a reference; write the leaderboard CSV and Markdown."""
    from oodcalib.benchmark.reporting.leaderboard import output_paths, write_leaderboard
    from oodcalib.errors import OodcalibError

    if more:
        if not metric:
            _fail(ValueError(f"unexpected arguments {more}; metric names follow --metric"))
        metric = [*metric, *more]

    metrics = [m.strip() for value in metric or [] for m in value.split(",") if m.strip()]
    try:
        csv_path, md_path = write_leaderboard(run_dir, reference, metrics or None, test,
                                              "holm" if holm else None, out,
                                              **_names(run_dir))
    except OodcalibError as error:
        _fail(error)
    typer.echo(md_path.read_text(encoding="utf-8"))
    for path in output_paths(csv_path):
        typer.echo(f"wrote {path}")


if __name__ == "__main__":  # pragma: no cover
    app()
