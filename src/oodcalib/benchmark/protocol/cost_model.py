"""Predicted wall time of a run's segmentation-network work, from measured rates.

The protocol knows how many slices each stage sends through the U-Net; multiplied by the
per-slice and per-step times of :func:`oodcalib.benchmark.segmentation.throughput.unet_rates`
they give a prediction per stage. Calibrator networks, metrics and I/O come on top, so
the prediction is a lower bound of the run's wall time.
"""

from __future__ import annotations

from oodcalib.baselines import CALIBRATORS
from oodcalib.benchmark.protocol.hyperparameters import calibrator_params
from oodcalib.config import Config

#: Forward passes of the segmentation net per calibration slice drawn while fitting:
#: LTS recomputes the logits of each augmented slice; Proposed also feeds its shape prior
#: a batch and computes ``train_copies`` photometric copies.
FIT_PASSES_PER_SLICE = {"lts": lambda p: 1, "proposed": lambda p: 2 + p["train_copies"]}


def predict_seconds(config: Config, rates: dict[str, float], slices_per_scan: float = 10.0,
                    source_cases: int = 100, lge_cases: int = 20) -> dict[str, float]:
    """Seconds of segmentation-network work per stage, summed over the folds.

    Args:
        config: The run's configuration.
        rates: ``infer_seconds_per_slice`` and ``train_seconds_per_step`` measured at the
            run's shapes (:func:`~oodcalib.benchmark.segmentation.throughput.unet_rates`).
        slices_per_scan: Mean slices per scan (ACDC ES: 9.9; the phantom: 9.4).
        source_cases: Scans of the training source (ACDC and the phantom: 100).
        lge_cases: Scans of the cross-sequence domain (MS-CMRSeg and the LGE phantom: 20).

    Example:
        >>> from oodcalib.config import build_config
        >>> rates = {"infer_seconds_per_slice": 0.01, "train_seconds_per_step": 0.1}
        >>> # per fold: train 1500 x 0.1 + 10 validations x 50 slices x 0.01 = 155 s
        >>> {k: round(v) for k, v in predict_seconds(build_config("quick"), rates).items()}
        {'train': 465, 'logits': 38, 'passes': 360, 'fit:lts': 54, 'fit:proposed': 324}
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
        "train": train.iterations * rates["train_seconds_per_step"]
        + train.iterations // train.val_every * val_slices * per_slice,
        "logits": (test_slices + val_slices) * per_slice,
        "passes": 0.0,
    }
    if any(CALIBRATORS[m].test_time_passes for m in e.methods if m in CALIBRATORS):
        stages["passes"] = e.num_aug * test_slices * per_slice
    for method, passes in FIT_PASSES_PER_SLICE.items():
        if method in e.methods:
            p = CALIBRATORS[method](**calibrator_params(config, method)).get_params()
            slices = p["iterations"] * p["batch_size"] * passes(p)
            stages[f"fit:{method}"] = e.repeats * slices * per_slice
    return {stage: seconds * d.n_folds for stage, seconds in stages.items()}
