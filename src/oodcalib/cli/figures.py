"""``oodcalib figures``: the summary, reliability, gallery and case figures of a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oodcalib.cli.options import DeviceOpt, _fail, _names, _select_device, _writable


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
