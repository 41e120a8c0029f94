"""Commands that analyse a finished run directory: ablate, figures, leaderboard."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oodcalib.cli.options import DeviceOpt, MoreOpt, _fail, _names, _select_device, _writable


def ablate(
    run_dir: Path,
    num_aug: Annotated[
        list[int] | None,
        typer.Option(
            "--num-aug",
            help="Test-time passes N_A to compare (repeat the option, or list them "
            "after one --num-aug).",
        ),
    ] = None,
    components: Annotated[
        bool,
        typer.Option(
            "--components", help="Switch Proposed's susceptibility / shape-prior inputs off."
        ),
    ] = False,
    loss_param: Annotated[
        list[str] | None,
        typer.Option(
            "--loss-param",
            help="Sweep one loss hyperparameter, LOSS.NAME=V1,V2,... (e.g. "
            "nacl.alpha=0.05,0.1,0.3): one net per (value, fold), calibrated and scored on "
            "every domain (repeatable).",
        ),
    ] = None,
    severity: Annotated[
        list[int] | None,
        typer.Option(
            "--severity",
            help="Corruption levels 1..5 to score every method on (repeat the "
            "option, or list them after one --severity): the calibration-under-shift curves.",
        ),
    ] = None,
    methods: Annotated[
        str | None,
        typer.Option(
            help="Calibrators: fitted on the nets of --loss-param (default uc,ts), or scored "
            "by --severity (default: all of the run's)."
        ),
    ] = None,
    device: DeviceOpt = "auto",
    more: MoreOpt = None,
) -> None:
    """Ablate a run: N_A, Proposed's inputs (Table 2), a loss weight, or the severity."""
    from oodcalib.benchmark.layout import ablation_dir
    from oodcalib.benchmark.protocol.ablation import run_ablation
    from oodcalib.benchmark.reporting.ablation_table import write_ablation_tables
    from oodcalib.errors import OodcalibError
    from oodcalib.run_lock import run_lock

    if more:
        if (
            (num_aug and severity)
            or not (num_aug or severity)
            or not all(v.isdigit() for v in more)
        ):
            _fail(
                ValueError(
                    f"unexpected arguments {more}; values follow --num-aug or "
                    "--severity (repeat the option to give both)"
                )
            )
        if num_aug:
            num_aug = [*num_aug, *map(int, more)]
        else:
            severity = [*(severity or []), *map(int, more)]  # not empty: checked above

    if not num_aug and not components and not loss_param and not severity:
        _fail(
            ValueError(
                "choose --num-aug N [N ...], --components, --severity S [S ...] "
                "and/or --loss-param LOSS.NAME=V1,V2,..."
            )
        )
    chosen = [m.strip() for m in (methods or "").split(",") if m.strip()]
    try:
        _writable(run_dir, "run directory")
        _select_device(run_dir, device)
        with run_lock(run_dir, create=False):  # one writer per run directory
            for spec in loss_param or []:
                _loss_sweep(run_dir, spec, chosen or ["uc", "ts"])
            if severity:
                _severity_sweep(run_dir, severity, chosen)
            kinds: list[tuple[str, list[int] | None]] = [("num_aug", num_aug)] if num_aug else []
            kinds += [("components", None)] if components else []
            for kind, values in kinds:
                results = run_ablation(run_dir, kind, values)
                csv_path, md_path = write_ablation_tables(
                    results, ablation_dir(run_dir, kind), kind, _names(run_dir)["names"]
                )
                typer.echo(md_path.read_text())
                typer.echo(f"wrote {md_path} and {csv_path}")
    except (OodcalibError, ValueError) as error:
        _fail(error)


def _severity_sweep(run_dir: Path, levels: list[int], methods: list[str]) -> None:
    from oodcalib.benchmark.layout import ablation_dir
    from oodcalib.benchmark.protocol.severity_sweep import run_severity_sweep
    from oodcalib.benchmark.reporting.severity_curves import write_severity_outputs

    results = run_severity_sweep(run_dir, levels, methods or None)
    names = _names(run_dir)
    paths = write_severity_outputs(
        results, ablation_dir(run_dir, "severity"), names["names"], names["domains"]
    )
    typer.echo(paths[1].read_text())
    typer.echo("wrote " + ", ".join(str(p) for p in paths))


def _loss_sweep(run_dir: Path, spec: str, methods: list[str]) -> None:
    from oodcalib.benchmark.layout import ablation_dir
    from oodcalib.benchmark.protocol.loss_sweep import parse_loss_param, run_loss_sweep
    from oodcalib.benchmark.reporting.ablation_table import write_ablation_tables
    from oodcalib.benchmark.reporting.sensitivity import write_sensitivity_figure

    loss, name, _ = parse_loss_param(spec)
    results = run_loss_sweep(run_dir, spec, methods)
    out = ablation_dir(run_dir, "loss_param") / f"{loss}.{name}"
    names = _names(run_dir)["names"]
    csv_path, md_path = write_ablation_tables(results, out, f"{loss} {name}", names)
    figure = write_sensitivity_figure(results, out, f"{loss} {name}", names)
    typer.echo(md_path.read_text())
    typer.echo(f"wrote {md_path}, {csv_path} and {figure}")


def rescore(
    run_dir: Path,
    add: Annotated[
        list[str] | None,
        typer.Option(
            help="Methods to fit and score as well (repeat or comma-separate), e.g. ir,platt."
        ),
    ] = None,
    device: DeviceOpt = "auto",
) -> None:
    """Recompute every registered metric of a finished run from its caches (no training)."""
    import time

    from oodcalib.benchmark.protocol.rescore import rescore_run
    from oodcalib.cli.run import report
    from oodcalib.errors import OodcalibError
    from oodcalib.run_lock import run_lock

    methods = [m.strip() for value in add or [] for m in value.split(",") if m.strip()]
    start = time.perf_counter()
    try:
        _writable(run_dir, "run directory")
        _select_device(run_dir, device)
        with run_lock(run_dir, create=False):  # one writer, until the report is out
            results = rescore_run(run_dir, methods)
            report(run_dir, results, time.perf_counter() - start)
    except (OodcalibError, ValueError) as error:
        _fail(error)


def figures(
    run_dir: Path,
    case: Annotated[str | None, typer.Option(help="Test case id (see results.csv).")] = None,
    domain: Annotated[
        list[str] | None,
        typer.Option(
            help="Domain of --case (clean, bias_field, motion, ghosting, spike, lge); with "
            "--dataset-reliability, the domain(s) to draw (all if unset)."
        ),
    ] = None,
    fold: Annotated[int, typer.Option(help="Fold whose models are used.")] = 0,
    repeat: Annotated[int, typer.Option(help="Calibrator repeat.")] = 0,
    method: Annotated[list[str] | None, typer.Option(help="Method(s); all if unset.")] = None,
    slice_index: Annotated[
        int | None,
        typer.Option("--slice", help="Slice of the entropy/error figure (default: largest heart)."),
    ] = None,
    dataset_reliability: Annotated[
        bool,
        typer.Option(
            "--dataset-reliability",
            help="The ACE paper's dataset reliability histogram per (method, domain).",
        ),
    ] = False,
    summary: Annotated[
        bool,
        typer.Option("--summary", help="Every method's --metric across the domains, with 95% CIs."),
    ] = False,
    metric: Annotated[str, typer.Option(help="Metric of --summary.")] = "ece",
    gallery: Annotated[
        bool,
        typer.Option(
            "--gallery",
            help="One slice of --case (default: the first clean test scan) in every test "
            "domain, as the network sees it.",
        ),
    ] = False,
    loss: Annotated[
        str | None,
        typer.Option(help="Loss whose net --case shows, in a loss grid (default: its first loss)."),
    ] = None,
    device: DeviceOpt = "auto",
) -> None:
    """Per-case reliability figures, dataset reliability, a summary, or a domain gallery."""
    from oodcalib.errors import OodcalibError
    from oodcalib.run_lock import run_lock

    if not (case or dataset_reliability or summary or gallery):
        _fail(
            ValueError(
                "choose --case ID --domain NAME, --dataset-reliability, --summary and/or --gallery"
            )
        )
    out = run_dir / "figures"
    paths: list[Path] = []
    try:
        if slice_index is not None and slice_index < 0:
            raise ValueError(f"--slice {slice_index}: a slice index is >= 0")
        _writable(out, "figures folder")
        with run_lock(run_dir, create=False):  # one writer per run directory
            names = _names(run_dir)
            if gallery:
                from oodcalib.benchmark.protocol.case_view import domain_cases
                from oodcalib.benchmark.reporting.domain_gallery import write_domain_gallery

                shown = domain_cases(run_dir, case)
                label = case or shown[next(iter(shown))].case_id
                paths.append(
                    write_domain_gallery(shown, out / f"gallery_{label}.png", names["domains"])
                )
            if case and not gallery:
                _select_device(run_dir, device)
                paths += _case_figures(
                    run_dir, case, domain, fold, repeat, method, slice_index, names["names"], loss
                )
            if dataset_reliability:
                from oodcalib.benchmark.reporting.dataset_metrics import read_bins
                from oodcalib.benchmark.reporting.dataset_reliability import (
                    write_dataset_reliability,
                )

                paths += write_dataset_reliability(
                    read_bins(run_dir), out, domain, method, names["names"]
                )
            if summary:
                from oodcalib.benchmark.protocol.runner import collect_results
                from oodcalib.benchmark.reporting.dataset_metrics import with_dataset_metrics
                from oodcalib.benchmark.reporting.summary_figure import write_summary_figure
                from oodcalib.segmentation.losses import LOSS_NAMES

                results = with_dataset_metrics(collect_results(run_dir), run_dir)
                paths.append(write_summary_figure(results, out, metric, **names, losses=LOSS_NAMES))
    except (OodcalibError, ValueError) as error:
        _fail(error)
    for path in paths:
        typer.echo(f"wrote {path}")


def _case_figures(
    run_dir: Path,
    case: str,
    domain: list[str] | None,
    fold: int,
    repeat: int,
    method: list[str] | None,
    slice_index: int | None,
    names,
    loss: str | None = None,
) -> list[Path]:
    from oodcalib.benchmark.protocol.case_view import case_probabilities
    from oodcalib.benchmark.reporting.figures import case_figures

    if not domain or len(domain) != 1:
        raise ValueError("--case needs exactly one --domain")
    scan, probs = case_probabilities(run_dir, case, domain[0], fold, repeat, method, loss)
    stem = f"{loss + '_' if loss else ''}{domain[0]}_{case}_fold{fold}_r{repeat}"
    return case_figures(
        probs, scan.image, scan.label, run_dir / "figures", stem, slice_index, names=names
    )


def leaderboard(
    run_dir: Path,
    reference: Annotated[
        str | None,
        typer.Option(
            help="Entrant the others are tested against: a method (default lts) or, in a loss "
            "grid, LOSS/METHOD (default dice_ce/uc)."
        ),
    ] = None,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            help="Metric(s): repeat the option or comma-separate; the headline metrics "
            "(ece, sce, dice) if unset."
        ),
    ] = None,
    test: Annotated[str, typer.Option(help="Paired test: wilcoxon or ttest.")] = "wilcoxon",
    holm: Annotated[bool, typer.Option(help="Holm-correct within each metric and domain.")] = False,
    out: Annotated[Path | None, typer.Option(help="CSV path (RUN_DIR/leaderboard.csv).")] = None,
    more: MoreOpt = None,
) -> None:
    """Test every method against a reference; write the leaderboard CSV and Markdown."""
    from oodcalib.benchmark.reporting.leaderboard import output_paths, write_leaderboard
    from oodcalib.errors import OodcalibError
    from oodcalib.run_lock import run_lock

    if more:
        if not metric:
            _fail(ValueError(f"unexpected arguments {more}; metric names follow --metric"))
        metric = [*metric, *more]

    metrics = [m.strip() for value in metric or [] for m in value.split(",") if m.strip()]
    try:
        _writable(out or Path(run_dir) / "leaderboard.csv", "leaderboard", file=True)
        from oodcalib.benchmark.layout import fold_files

        # one writer per run directory; a read-only one (with --out elsewhere) is only read
        with run_lock(run_dir, required=False, create=False) as lock:
            if fold_files(run_dir, "per_case/*.csv"):  # results.csv rebuilt from the records
                from oodcalib.benchmark.protocol.runner import collect_results

                collect_results(run_dir, write=lock is not None)
            csv_path, md_path = write_leaderboard(
                run_dir,
                reference,
                metrics or None,
                test,
                "holm" if holm else None,
                out,
                **_names(run_dir),
            )
    except OodcalibError as error:
        _fail(error)
    typer.echo(md_path.read_text(encoding="utf-8"))
    for path in output_paths(csv_path):
        typer.echo(f"wrote {path}")
