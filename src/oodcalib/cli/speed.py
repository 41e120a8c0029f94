"""``oodcalib speed``: this machine's fp32 peak, the U-Net's share of it, a preset's cost."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from oodcalib.cli.options import SetOpt, _fail


def speed(
    preset: Annotated[
        str,
        typer.Option(
            help="Preset whose shapes and counts are used (on the phantom; `--set "
            "data.source=acdc` for ACDC's 100 + 20 scans)."
        ),
    ] = "quick",
    set_: SetOpt = None,
    threads: Annotated[int, typer.Option(help="torch threads (0: torch's default).")] = 0,
    slices_per_scan: Annotated[
        float,
        typer.Option(help="Mean slices per scan for the prediction (ACDC ES 9.9, phantom 10.2)."),
    ] = 10.0,
    repeats: Annotated[int, typer.Option(help="Timed repeats; the fastest counts.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    device: Annotated[
        str,
        typer.Option(
            help="cpu, or cuda / cuda:N: the GPU's fp32, TF32 and bf16 matmul peaks, the "
            "U-Net's share at the preset's shapes, the paper preset's and the paper-scale "
            "loss grid's predicted time."
        ),
    ] = "cpu",
) -> None:
    """Measure fp32 peak and U-Net GFLOP/s here; predict a preset's network time."""
    import torch

    from oodcalib.benchmark.protocol.cost_model import (
        measured_rates,
        predict_seconds,
        source_counts,
    )
    from oodcalib.benchmark.protocol.provenance import cpu
    from oodcalib.config import build_config
    from oodcalib.errors import OodcalibError
    from oodcalib.segmentation.throughput import matmul_rates

    try:
        config = build_config(preset, set_ or [])
        if device != "cpu":
            from oodcalib.segmentation.device import resolve_device

            chosen = resolve_device(device)
            if chosen.type != "cuda":
                raise OodcalibError(f"--device {device}: speed measures the CPU or a CUDA GPU")
    except OodcalibError as error:
        _fail(error)
    if device != "cpu":
        from oodcalib.cli.gpu_speed import gpu_speed

        gpu_speed(config, preset, chosen, set_ or [], slices_per_scan, repeats, as_json)
        return
    if threads:
        torch.set_num_threads(threads)
    # the CPU's clock drifts on a shared machine: each library's rate is the best seen
    # before and after the network is timed, so a fraction of the peak is never flattered
    before = matmul_rates(repeats=3 * repeats)
    rates = measured_rates(config, repeats)
    libraries = {
        name: max(rate, before[name]) for name, rate in matmul_rates(repeats=3 * repeats).items()
    }
    peak = max(libraries.values())
    stages = predict_seconds(config, rates, slices_per_scan, **source_counts(config))
    report: dict[str, Any] = {
        "preset": preset,
        "threads": torch.get_num_threads(),
        **cpu(),
        "matmul_peak_gflops": peak,
        "matmul_gflops": libraries,
        **rates,
        "infer_fraction_of_peak": rates["infer_gflops"] / peak,
        "train_fraction_of_peak": rates["train_gflops"] / peak,
        "predicted_network_seconds": stages,
        "predicted_network_minutes_total": sum(stages.values()) / 60,
    }
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    names = {"blas": "torch.matmul", "onednn": "oneDNN"}
    by_library = ", ".join(f"{names[name]} {rate:.1f}" for name, rate in libraries.items())
    typer.echo(
        f"fp32 matmul peak: {peak:.1f} GFLOP/s ({report['threads']} threads, "
        f"{report['cpu_capability']}; the faster of {by_library})"
    )
    typer.echo(
        f"U-Net inference:  {rates['infer_gflops']:.1f} GFLOP/s = "
        f"{100 * report['infer_fraction_of_peak']:.0f}% of peak "
        f"({1000 * rates['infer_seconds_per_slice']:.1f} ms per slice)"
    )
    typer.echo(
        f"U-Net training:   {rates['train_gflops']:.1f} GFLOP/s = "
        f"{100 * report['train_fraction_of_peak']:.0f}% of peak "
        f"({rates['train_seconds_per_step']:.2f} s per step of "
        f"{config.train.batch_size}; the losses add "
        f"{1000 * rates['loss_seconds_per_step']:.1f} ms)"
    )
    if rates["compile_seconds"]:
        typer.echo(
            f"torch.compile:    {rates['compile_seconds']:.0f} s for the first calls "
            "(once per process and shape; inductor's disk cache shortens it later; "
            "`--set model.compile=false` for the eager network)"
        )
    typer.echo(
        f"\npredicted segmentation-network time of preset {preset!r} "
        "(calibrator nets, metrics and I/O come on top):"
    )
    for stage, seconds in stages.items():
        typer.echo(f"  {stage:<14} {seconds / 60:7.1f} min")
    typer.echo(f"  {'total':<14} {report['predicted_network_minutes_total']:7.1f} min")
