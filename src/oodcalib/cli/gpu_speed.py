"""``oodcalib speed --device cuda``: the GPU's peaks, the U-Net's share, paper-scale times."""

from __future__ import annotations

import json
from typing import Any

import typer


def gpu_speed(
    config,
    preset: str,
    device,
    overrides: list[str],
    slices_per_scan: float,
    repeats: int,
    as_json: bool,
) -> None:
    """Measure ``device`` and print (or ``as_json``) the report; predictions are labelled so.

    The U-Net's fraction is of the peak of the precision it runs in (bf16 or fp16 under
    autocast: the bf16 peak; ``amp=false``: TF32). The paper preset and the paper-scale
    loss grid (:data:`~oodcalib.presets.GRID_LOSSES` with UC and TS) are measured at
    their own shapes.
    """
    import torch

    from oodcalib.benchmark.protocol.cost_model import (
        measured_rates,
        predict_seconds,
        source_counts,
    )
    from oodcalib.config import build_config
    from oodcalib.presets import GRID_LOSSES
    from oodcalib.segmentation.acceleration import Placement
    from oodcalib.segmentation.device import describe_device
    from oodcalib.segmentation.gpu_throughput import gpu_matmul_rates

    peaks = gpu_matmul_rates(device)
    autocast = Placement(device, amp=config.amp).autocast_dtype
    precision = {torch.bfloat16: "bf16", torch.float16: "fp16", None: "tf32"}[autocast]
    peak = peaks["bf16" if autocast is not None else "tf32"]
    rates = measured_rates(config, repeats, device)
    runs = {preset: (config, rates)}
    for name, extra in (
        ("paper", []),
        ("paper loss grid", [f"train.losses={','.join(GRID_LOSSES)}", "eval.methods=uc,ts"]),
    ):
        if name != preset:
            other = build_config("paper", [*overrides, *extra])
            runs[name] = (other, measured_rates(other, repeats, device))
    predicted = {
        name: predict_seconds(c, r, slices_per_scan, **source_counts(c))
        for name, (c, r) in runs.items()
    }
    report: dict[str, Any] = {
        "preset": preset,
        **describe_device(device),
        "matmul_gflops": peaks,
        "unet_precision": precision,
        **rates,
        "infer_fraction_of_peak": rates["infer_gflops"] / peak,
        "train_fraction_of_peak": rates["train_gflops"] / peak,
        "predicted_network_seconds": predicted,
        "predicted_network_minutes_total": {k: sum(v.values()) / 60 for k, v in predicted.items()},
    }
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    typer.echo(
        f"{report.get('gpu_name')}: matmul peak "
        + ", ".join(f"{k} {v / 1000:.1f} TFLOP/s" for k, v in peaks.items())
    )
    for stage in ("infer", "train"):
        typer.echo(
            f"U-Net {stage:<9} {rates[f'{stage}_gflops'] / 1000:.2f} TFLOP/s = "
            f"{100 * report[f'{stage}_fraction_of_peak']:.0f}% of the {precision} peak"
        )
    typer.echo(
        f"  ({1000 * rates['infer_seconds_per_slice']:.2f} ms per slice, "
        f"{1000 * rates['train_seconds_per_step']:.1f} ms per step of {config.train.batch_size})"
    )
    typer.echo(
        "\npredicted segmentation-network time (a prediction from the rates above; "
        "calibrator nets, CPU augmentation, metrics and I/O come on top):"
    )
    for name, stages in predicted.items():
        detail = ", ".join(f"{k} {v / 60:.1f}" for k, v in stages.items())
        typer.echo(f"  {name:<16} {sum(stages.values()) / 60:7.1f} min ({detail})")
