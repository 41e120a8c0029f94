"""Predicted wall time of a run's segmentation-network work, from measured rates.

The protocol knows how many slices each stage sends through the U-Net; multiplied by the
per-slice and per-step times of :func:`oodcalib.segmentation.throughput.unet_rates`
they give a prediction per stage. Calibrator networks, metrics and I/O come on top, so
the prediction is a lower bound of the run's wall time.
"""

from __future__ import annotations

from oodcalib.baselines import CALIBRATORS
from oodcalib.benchmark.protocol.hyperparameters import (
    calibrator_params,
    loss_params,
    run_losses,
)
from oodcalib.config import Config


def pool_passes(config: Config) -> float:
    """Forward passes per calibration slice that the shared calibration pools cost.

    A learned calibrator (one with a ``pool_size`` hyperparameter) trains on
    ``pool_size`` augmented versions of each calibration slice, each sent through the net
    once plus ``train_copies`` photometric copies for Proposed. Methods with the same
    ``pool_size`` share the slices (see
    :mod:`~oodcalib.baselines.common.calibration_pool`).

    Example:
        >>> from oodcalib.config import build_config
        >>> pool_passes(build_config("quick"))  # 8 draws x (1 + 6 copies)
        56
    """
    copies: dict[int, int] = {}
    for method in config.eval.methods:
        if method not in CALIBRATORS:
            continue
        p = CALIBRATORS[method](**calibrator_params(config, method)).get_params()
        if "pool_size" in p:
            extra = p.get("train_copies", 0) if p.get("susceptibility", True) else 0
            copies[p["pool_size"]] = max(copies.get(p["pool_size"], 0), extra)
    return sum(size * (1 + extra) for size, extra in copies.items())


def predict_seconds(
    config: Config,
    rates: dict[str, float],
    slices_per_scan: float = 10.0,
    source_cases: int = 100,
    lge_cases: int = 20,
) -> dict[str, float]:
    """Seconds of segmentation-network work per stage, summed over the (loss, fold) cells.

    Args:
        config: The run's configuration.
        rates: ``infer_seconds_per_slice`` and ``train_seconds_per_step`` measured at the
            run's shapes (:func:`~oodcalib.segmentation.throughput.unet_rates`),
            and optionally ``loss_seconds_per_step``, the mean extra time of the run's
            losses over cross-entropy
            (:func:`~oodcalib.segmentation.throughput.loss_overhead`).
        slices_per_scan: Mean slices per scan (ACDC ES: 9.9; the phantom: 9.4).
        source_cases: Scans of the training source (ACDC and the phantom: 100).
        lge_cases: Scans of the cross-sequence domain (MS-CMRSeg and the LGE phantom: 20).

    Example:
        >>> from oodcalib.config import build_config
        >>> rates = {"infer_seconds_per_slice": 0.01, "train_seconds_per_step": 0.1}
        >>> # per fold: train 1500 x 0.1 + 15 validations x 50 slices x 0.01 = 157.5 s
        >>> {k: round(v) for k, v in predict_seconds(build_config("quick"), rates).items()}
        {'train': 472, 'logits': 38, 'passes': 360, 'pool': 84}
    """
    d, e = config.data, config.eval
    per_slice = rates["infer_seconds_per_slice"]
    test = round(d.split_fractions[2] * source_cases)
    lge = lge_cases if e.cross_sequence else 0
    if d.max_test_cases:
        test, lge = min(test, d.max_test_cases), min(lge, d.max_test_cases)
    test_slices = slices_per_scan * (test * (1 + len(e.corruptions)) + lge)
    val_slices = slices_per_scan * d.val_per_fold
    train = config.train
    stages = {
        "train": train.iterations
        * (rates["train_seconds_per_step"] + rates.get("loss_seconds_per_step", 0.0))
        + train.iterations // train.val_every * val_slices * per_slice,
        "logits": (test_slices + val_slices) * per_slice,
        "passes": 0.0,
    }
    if any(CALIBRATORS[m].test_time_passes for m in e.methods if m in CALIBRATORS):
        stages["passes"] = e.num_aug * test_slices * per_slice
    stages["pool"] = pool_passes(config) * val_slices * per_slice
    cells = d.n_folds * len(run_losses(config))
    return {stage: seconds * cells for stage, seconds in stages.items()}


def measured_rates(config: Config, repeats: int = 3, device=None) -> dict[str, float]:
    """The U-Net's rates at the run's shapes plus the mean overhead of its losses.

    ``device``: a CUDA torch device measures the GPU as a run uses it
    (:mod:`~oodcalib.segmentation.gpu_throughput`); None or the CPU, this machine's CPU.
    """
    from oodcalib.segmentation.throughput import loss_overhead, unet_rates

    size = config.data.input_size or config.data.size
    if device is not None and device.type == "cuda":
        return _gpu_rates(config, repeats, device, size)
    rates = unet_rates(
        config.model.width,
        config.model.depth,
        size,
        config.train.batch_size,
        repeats,
        compile=config.model.compile,
        channels_last=bool(config.model.channels_last),
    )
    params = {loss: loss_params(config, loss) for loss in run_losses(config)}
    rates["loss_seconds_per_step"] = loss_overhead(
        run_losses(config), params, config.train.batch_size, size
    )
    return rates


def _gpu_rates(config: Config, repeats: int, device, size: int) -> dict[str, float]:
    from oodcalib.segmentation.acceleration import Placement
    from oodcalib.segmentation.gpu_throughput import gpu_loss_overhead, gpu_unet_rates

    m, t = config.model, config.train
    placement = Placement(device, amp=config.amp, prefer_channels_last=config.model.channels_last)
    rates = gpu_unet_rates(m.width, m.depth, size, t.batch_size, placement, repeats, m.compile)
    params = {loss: loss_params(config, loss) for loss in run_losses(config)}
    rates["loss_seconds_per_step"] = gpu_loss_overhead(
        run_losses(config), params, t.batch_size, size, device
    )
    return rates


def source_counts(config: Config) -> dict[str, int]:
    """Scans of the source and cross-sequence domains, where the config says (phantom)."""
    d = config.data
    if d.source == "phantom":
        return {"source_cases": d.phantom_cases, "lge_cases": d.lge_phantom_cases}
    return {}
