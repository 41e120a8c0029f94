"""The metric registry: every entry of ``METRICS``, and ``scan_metrics`` that scores them.

Every registered metric (a new one is covered as soon as it is added) must be well formed,
give a fraction on random probabilities and its best value on a perfect prediction.
``scan_metrics`` must return every metric in registry order, equal to each metric on a
:class:`ScanScorer`; its ECE and SCE must equal the public functions in the ROI (an
independent path), and it must bin once per scan.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import oodcalib.metrics.scoring as scoring
from oodcalib.metrics import (
    FOREGROUND_NAMES,
    METRICS,
    Metric,
    ScanScorer,
    average_calibration_error,
    brier_score,
    classwise_calibration_error,
    dice_per_class,
    expected_calibration_error,
    foreground_calibration_error,
    get_metric,
    hausdorff_distance_95,
    headline_metrics,
    marginal_calibration_error,
    maximum_calibration_error,
    negative_log_likelihood,
    roi_mask,
    scan_metrics,
    static_calibration_error,
    stratified_brier_score,
)
from tests.metrics.helpers import SEEDS, random_probs

NAMES = list(METRICS)

#: Voxel size ``(slice, row, col)`` in mm given to the scorers, so ``hd95_mm`` has a value.
SPACING = (8.0, 1.25, 1.5)


def best(metric: Metric) -> float:
    return 1.0 if metric.higher_is_better else 0.0


def heart_scan(seed: int, absent: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(probs (4, Z, H, W), labels (Z, H, W))``: foreground in the middle only, so the
    ROI is smaller than the image; informative but imperfect probabilities."""
    rng = np.random.default_rng(seed)
    labels = np.zeros((3, 24, 24), np.int64)
    labels[:, 8:16, 8:16] = rng.integers(1, 4, (3, 8, 8))
    if absent is not None:
        labels[labels == absent] = 1 if absent != 1 else 2
    logits = rng.normal(size=(4, 3, 24, 24)) * 2 + 2.0 * np.moveaxis(np.eye(4)[labels], -1, 0)
    probs = np.exp(logits - logits.max(0))
    return probs / probs.sum(0), labels


def perfect(labels: np.ndarray) -> np.ndarray:
    return np.moveaxis(np.eye(4)[labels], -1, 0)


def test_the_registry_is_not_empty():
    assert {"ece", "sce", "dice"} <= set(NAMES)  # the parametrised tests below do run


@pytest.mark.parametrize("name", NAMES)
def test_entries_are_well_formed(name):
    metric = METRICS[name]
    assert isinstance(metric, Metric) and metric.name == name
    assert get_metric(name) is metric
    assert isinstance(metric.display_name, str) and metric.display_name.strip()
    assert isinstance(metric.higher_is_better, bool) and callable(metric.compute)
    # a pandas reduction that skips NaN and stays within the values it reduces
    value = getattr(pd.Series([1.0, 2.0, np.nan]), metric.aggregate)()
    assert isinstance(value, float) and 1.0 <= value <= 2.0


def test_display_names_are_unique_and_headlines_in_registry_order():
    displayed = [m.display_name for m in METRICS.values()]
    assert len(set(displayed)) == len(displayed)
    assert headline_metrics() == [n for n in NAMES if METRICS[n].headline]
    assert headline_metrics()[:3] == ["ece", "sce", "dice"]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", NAMES)
def test_random_probabilities_give_a_fraction_short_of_the_best(name, seed):
    probs, labels = heart_scan(seed)
    assert len(np.unique(labels)) == 4 and len(np.unique(probs.argmax(0))) == 4
    value = METRICS[name].compute(ScanScorer(probs, labels, spacing=SPACING))
    assert isinstance(value, float)
    upper = 1.0 if METRICS[name].percent else np.inf  # NLL (nats) and HD95 (px, mm) unbounded
    assert 0.0 <= value <= upper  # also rules out NaN: every class is present
    assert value != best(METRICS[name])


@pytest.mark.parametrize("absent", [None, 1, 3])
@pytest.mark.parametrize("name", NAMES)
def test_perfect_prediction_gives_the_best_value(name, absent):
    """NaN is allowed only for the Dice of a class absent from both prediction and truth."""
    _, labels = heart_scan(4, absent)
    value = METRICS[name].compute(ScanScorer(perfect(labels), labels, spacing=SPACING))
    assert isinstance(value, float)
    if absent is not None and name == f"dice_{FOREGROUND_NAMES[absent - 1]}":
        assert np.isnan(value)
    else:
        assert value == pytest.approx(best(METRICS[name]), abs=1e-12)


@pytest.mark.parametrize("absent", [1, 2, 3])
@pytest.mark.parametrize("name", NAMES)
def test_random_probabilities_with_an_absent_class(name, absent):
    probs, labels = heart_scan(5, absent)
    value = METRICS[name].compute(ScanScorer(probs, labels, spacing=SPACING))
    if np.isnan(value):
        assert name == f"dice_{FOREGROUND_NAMES[absent - 1]}"
        assert absent not in probs.argmax(0)  # absent from both
    else:
        assert 0.0 <= value <= (1.0 if METRICS[name].percent else np.inf)


#: Each metric of the other papers against its public function (an independent path).
PUBLIC = {
    "ace": average_calibration_error,
    "mce": maximum_calibration_error,
    "marginal_ece": marginal_calibration_error,
    "fg_ece": foreground_calibration_error,
    "cece": classwise_calibration_error,
    "brier": brier_score,
    "brier_fg": stratified_brier_score,
    "nll": negative_log_likelihood,
    "hd95": hausdorff_distance_95,
    "hd95_mm": lambda probs, labels: hausdorff_distance_95(probs, labels, SPACING),
}


@pytest.mark.parametrize("absent", [None, 2])
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", list(PUBLIC))
def test_the_other_papers_metrics_equal_their_public_functions(name, seed, absent):
    probs, labels = heart_scan(seed, absent)
    assert scan_metrics(probs, labels, metrics=[name], spacing=SPACING)[name] == pytest.approx(
        PUBLIC[name](probs, labels), rel=1e-12
    )


def test_hd95_memo_is_keyed_by_prediction_and_labels():
    """Methods that keep the argmax share one HD95; another prediction or label map
    is computed anew."""
    probs, labels = heart_scan(7)
    memo: dict = {}
    first = ScanScorer(probs, labels, memo=memo).hd95()
    sharper = np.exp(4 * np.log(probs))  # same argmax, other probabilities
    sharper /= sharper.sum(0)
    assert ScanScorer(sharper, labels, memo=memo).hd95() == first and len(memo) == 1
    moved = np.roll(probs, 3, axis=-1)
    assert ScanScorer(moved, labels, memo=memo).hd95() == hausdorff_distance_95(moved, labels)
    assert len(memo) == 2
    ScanScorer(probs, np.roll(labels, 2, axis=-2), memo=memo).hd95()
    assert len(memo) == 3


# --- scan_metrics --------------------------------------------------------------------


@pytest.mark.parametrize(("n_bins", "roi_size"), [(10, 10), (7, 5), (1, 3)])
def test_scan_metrics_is_every_metric_in_order_on_a_scorer(n_bins, roi_size):
    probs, labels = heart_scan(6)
    result = scan_metrics(probs, labels, n_bins=n_bins, roi_size=roi_size)
    assert list(result) == NAMES
    scorer = ScanScorer(probs, labels, n_bins, roi_size)
    expected = [METRICS[n].compute(scorer) for n in NAMES]
    np.testing.assert_array_equal(list(result.values()), expected)
    subset = scan_metrics(probs, labels, n_bins, roi_size, metrics=["dice", "ece"])
    assert subset == {"dice": result["dice"], "ece": result["ece"]}
    assert list(subset) == ["dice", "ece"]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n_bins", "roi_size"), [(10, 10), (7, 5), (15, 3)])
def test_ece_and_sce_equal_the_public_functions_in_the_roi(seed, n_bins, roi_size):
    probs, labels = heart_scan(seed)
    result = scan_metrics(probs, labels, n_bins=n_bins, roi_size=roi_size)
    mask = roi_mask(labels, roi_size)
    assert 0 < mask.sum() < labels.size
    assert result["ece"] == pytest.approx(
        expected_calibration_error(probs, labels, mask, n_bins), abs=1e-12
    )
    assert result["sce"] == pytest.approx(
        static_calibration_error(probs, labels, mask, n_bins), abs=1e-12
    )
    assert result["ece"] != pytest.approx(expected_calibration_error(probs, labels, None, n_bins))


def test_perfect_scan_has_nan_dice_for_the_absent_class_only():
    _, labels = heart_scan(0, absent=3)
    result = scan_metrics(perfect(labels), labels)
    assert np.isnan(result["dice_lv"])
    assert {k: result[k] for k in ("ece", "sce", "dice", "dice_rv", "dice_myo")} == {
        "ece": 0.0,
        "sce": 0.0,
        "dice": 1.0,
        "dice_rv": 1.0,
        "dice_myo": 1.0,
    }


def test_a_registered_metric_is_scored(monkeypatch):
    """A new entry is computed on the same scorer and returned last (registry order)."""

    def foreground_fraction(scan: ScanScorer) -> float:
        return float((scan.labels > 0).mean())

    monkeypatch.setitem(
        METRICS, "foreground", Metric("foreground", "FG", True, foreground_fraction)
    )
    probs, labels = heart_scan(1)
    result = scan_metrics(probs, labels)
    assert list(result) == [*NAMES, "foreground"]
    assert result["foreground"] == pytest.approx(3 * 64 / (3 * 24 * 24))
    assert get_metric("foreground").display_name == "FG"


def test_scan_metrics_bins_and_counts_once(monkeypatch):
    """ECE and SCE share one pass over the pixels, ACE/MCE/marginal ECE another and the
    NACL metrics a third; the Dice metrics share one confusion."""
    calls = {
        "accumulate": 0,
        "dice_per_class": 0,
        "marginal_bin_stats": 0,
        "foreground_bin_stats": 0,
    }

    def counting(name, fn):
        def wrapped(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(scoring, "accumulate", counting("accumulate", scoring.accumulate))
    monkeypatch.setattr(
        scoring, "dice_per_class", counting("dice_per_class", scoring.dice_per_class)
    )
    for name in ("marginal_bin_stats", "foreground_bin_stats"):
        monkeypatch.setattr(scoring, name, counting(name, getattr(scoring, name)))
    probs, labels = heart_scan(2)
    scan_metrics(probs, labels)
    assert calls == {
        "accumulate": 1,
        "dice_per_class": 1,
        "marginal_bin_stats": 1,
        "foreground_bin_stats": 1,
    }


# --- the runner's layout, and errors -------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_scan_metrics_composes_the_public_functions(seed):
    rng = np.random.default_rng(seed)
    probs, _ = random_probs(seed, 4, (3, 24, 24), 10)
    labels = np.zeros((3, 24, 24), np.int64)
    labels[:, 8:16, 8:16] = rng.integers(0, 4, (3, 8, 8))
    labels[:, 10, 10] = 2  # every class but maybe RV/LV present
    view = np.moveaxis(np.ascontiguousarray(np.moveaxis(probs, 0, 1)), 1, 0)  # runner layout
    result = scan_metrics(view, torch.from_numpy(labels.astype(np.uint8)))
    mask = roi_mask(labels)
    assert mask.sum() < labels.size
    assert result["ece"] == pytest.approx(expected_calibration_error(probs, labels, mask))
    assert result["sce"] == pytest.approx(static_calibration_error(probs, labels, mask))
    dice = dice_per_class(probs, labels)
    assert [result[k] for k in ("dice_rv", "dice_myo", "dice_lv")] == pytest.approx(dice.tolist())
    assert result["dice"] == pytest.approx(np.nanmean(dice))
    assert result["ece"] != pytest.approx(expected_calibration_error(probs, labels))  # ROI used
    assert all(isinstance(v, float) for v in result.values())


def test_scan_metrics_errors():
    probs, labels = random_probs(0, 4, (6, 6), 10)
    with pytest.raises(ValueError, match="empty ROI"):
        scan_metrics(probs[:, None], np.zeros((1, 6, 6), np.uint8))
    with pytest.raises(ValueError, match=r"\(4, Z, H, W\)"):
        scan_metrics(probs, labels)
