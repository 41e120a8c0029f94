"""HD95 against medpy's ``medpy.metric.binary.hd95`` (the NACL paper's evaluation, on the
whole image; the implementation crops), with the NACL absent-class rules applied around
it, over random label maps and random binary masks in 2D and 3D, with and without
(anisotropic) spacing; and hand cases: known distances, the pooled percentile against the
larger directed one, the absent-class rules, the ``hd95_mm`` scorer entry."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from medpy.metric.binary import hd95 as medpy_hd95
from scipy.ndimage import gaussian_filter

from oodcalib.metrics import (
    METRICS,
    ScanScorer,
    hausdorff_distance_95,
    hausdorff_distance_95_per_class,
    scan_metrics,
)
from tests.metrics.helpers import SEEDS, assert_rejects_bad_inputs


def oracle_per_class(pred, labels, spacing=None, num_classes=4):
    """medpy's hd95 per foreground class; 0 absent from the truth, diagonal if missed."""
    extent = np.array(labels.shape) * (1.0 if spacing is None else np.asarray(spacing))
    result = []
    for c in range(1, num_classes):
        if not (labels == c).any():
            result.append(0.0)
        elif not (pred == c).any():
            result.append(float(np.sqrt(np.sum(extent**2))))
        else:
            result.append(float(medpy_hd95(pred == c, labels == c, voxelspacing=spacing)))
    return result


def random_segmentation(seed, shape, num_classes=4):
    """Smooth random label maps: ground truth and a perturbed prediction (with probs)."""
    rng = np.random.default_rng(seed)
    sigma = (0,) + (0.5,) * (len(shape) == 3) + (3, 3)
    field = gaussian_filter(rng.normal(size=(num_classes, *shape)), sigma)
    noisy = field + 0.3 * gaussian_filter(rng.normal(size=field.shape), sigma)
    probs = np.exp(20 * noisy) / np.exp(20 * noisy).sum(0)
    return probs, field.argmax(0)


SHAPES_AND_SPACINGS = [
    ((32, 28), None),
    ((32, 28), (1.5, 0.7)),
    ((32, 28), 1.3),
    ((5, 20, 24), None),
    ((5, 20, 24), (6.0, 1.2, 0.9)),
    ((9, 16, 16), (10.0, 1.5, 1.5)),  # a short-axis stack: thick slices
    ((6, 12, 14), 0.8),
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("shape", "spacing"), SHAPES_AND_SPACINGS)
def test_matches_medpy_on_label_maps(seed, shape, spacing):
    probs, labels = random_segmentation(seed, shape)
    pred = probs.argmax(0)
    assert all((pred == c).any() and (labels == c).any() for c in range(1, 4))
    expected = oracle_per_class(pred, labels, spacing)
    hd = hausdorff_distance_95_per_class(probs, labels, spacing)
    np.testing.assert_allclose(hd, expected, rtol=1e-9)
    assert np.array_equal(hausdorff_distance_95_per_class(pred, labels, spacing), hd)
    assert hausdorff_distance_95(probs, labels, spacing) == pytest.approx(np.mean(expected))
    torch_hd = hausdorff_distance_95_per_class(
        torch.from_numpy(probs).float(), torch.from_numpy(labels), spacing
    )
    np.testing.assert_allclose(torch_hd, hd, rtol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("shape", "spacing"), SHAPES_AND_SPACINGS)
def test_matches_medpy_with_absent_classes(seed, shape, spacing):
    """Classes removed from the prediction, the truth or both: 0 or the diagonal."""
    probs, labels = random_segmentation(seed + 10, shape)
    pred = probs.argmax(0)
    pred[pred == 1] = 2  # RV missed: the diagonal
    labels[labels == 3] = 2  # LV absent from the truth, predicted: 0
    expected = oracle_per_class(pred, labels, spacing)
    hd = hausdorff_distance_95_per_class(pred, labels, spacing)
    np.testing.assert_allclose(hd, expected, rtol=1e-9)
    assert hd[2] == 0.0 and hd[0] == max(hd) > 0
    pred[pred == 3] = 0  # LV now absent from both: still 0
    np.testing.assert_allclose(hausdorff_distance_95_per_class(pred, labels, spacing), hd)


def random_mask(rng, shape):
    """A random binary mask: smoothed noise over a random threshold (blobs of any size,
    several components, holes, touching the border), never empty."""
    sigma = rng.uniform(0.5, 3)
    field = gaussian_filter(rng.normal(size=shape), sigma)
    mask = field > np.quantile(field, rng.uniform(0.5, 0.99))
    if not mask.any():
        mask.flat[rng.integers(mask.size)] = True
    return mask


@pytest.mark.parametrize("ndim", [2, 3])
def test_matches_medpy_on_random_masks(ndim):
    """200 random pairs of binary masks, random shapes and (anisotropic) spacings."""
    rng = np.random.default_rng(ndim)
    for _ in range(200):
        shape = tuple(int(n) for n in rng.integers(3, 30 if ndim == 2 else 14, ndim))
        spacing = None if rng.random() < 0.3 else tuple(rng.uniform(0.3, 8.0, ndim))
        pred, truth = random_mask(rng, shape), random_mask(rng, shape)
        expected = medpy_hd95(pred, truth, voxelspacing=spacing)
        hd = hausdorff_distance_95_per_class(
            pred.astype(np.int64), truth.astype(np.int64), spacing, num_classes=2
        )
        assert hd[0] == pytest.approx(expected, rel=1e-9, abs=1e-12), (shape, spacing)
        # symmetric, as medpy's
        swapped = hausdorff_distance_95_per_class(
            truth.astype(np.int64), pred.astype(np.int64), spacing, num_classes=2
        )
        assert swapped[0] == pytest.approx(hd[0], rel=1e-12)


def test_the_percentile_pools_both_directions():
    """A 3x3 square against the same square plus a pixel 10 away: directed distances
    [0]*8 and [0]*8 + [10]; pooled, the 95th percentile of 16 zeros and a 10 is
    0.2 * 10 = 2 (position 15.2 of 16); the larger directed one would be 0.6 * 10 = 6."""
    pred, labels = np.zeros((7, 20), np.int64), np.zeros((7, 20), np.int64)
    pred[2:5, 2:5] = labels[2:5, 2:5] = 1
    labels[3, 14] = 1  # 10 columns from the square's right edge (column 4)
    hd = hausdorff_distance_95_per_class(pred, labels, num_classes=2)
    assert hd.tolist() == pytest.approx([2.0])
    assert medpy_hd95(pred == 1, labels == 1) == pytest.approx(2.0)


def test_single_pixels_and_spacing():
    pred, labels = np.zeros((20, 30), np.int64), np.zeros((20, 30), np.int64)
    pred[5, 4], labels[5, 11] = 1, 1  # 7 columns apart
    pred[2, 20], labels[6, 23] = 2, 2  # 4 rows and 3 columns apart: 5
    assert hausdorff_distance_95_per_class(pred, labels, num_classes=3).tolist() == [7.0, 5.0]
    # anisotropic spacing scales each axis: rows 2 mm, columns 0.5 mm
    hd = hausdorff_distance_95_per_class(pred, labels, spacing=(2.0, 0.5), num_classes=3)
    np.testing.assert_allclose(hd, [3.5, np.hypot(8.0, 1.5)], rtol=1e-9)
    assert hausdorff_distance_95(pred, labels, spacing=2.0, num_classes=3) == pytest.approx(12.0)


def test_squares_in_a_volume():
    # two slices of a 4x4 square shifted by 3 along one axis: every voxel is on the
    # surface, distances 0, 1, 2, 3 a quarter each: the 95th percentile is 3, times
    # that axis's spacing
    pred, labels = np.zeros((6, 16, 16), np.int64), np.zeros((6, 16, 16), np.int64)
    pred[2:4, 3:7, 3:7], labels[2:4, 3:7, 6:10] = 2, 2
    assert hausdorff_distance_95_per_class(pred, labels)[1] == pytest.approx(3.0)
    assert hausdorff_distance_95(pred, labels) == pytest.approx(1.0)  # RV and LV absent: 0
    hd = hausdorff_distance_95_per_class(pred, labels, spacing=(10.0, 1.0, 1.5))
    assert hd.tolist() == pytest.approx([0.0, 4.5, 0.0])
    hd = hausdorff_distance_95_per_class(pred, labels, spacing=(10.0, 1.5, 1.0))
    assert hd.tolist() == pytest.approx([0.0, 3.0, 0.0])
    labels[2:4] = np.swapaxes(labels[2:4], 1, 2)  # now shifted along rows instead
    hd = hausdorff_distance_95_per_class(pred, labels, spacing=(10.0, 1.5, 1.0))
    assert hd.tolist() == pytest.approx([0.0, 4.5, 0.0])


def test_absent_class_rules():
    pred, labels = np.zeros((10, 24), np.int64), np.zeros((10, 24), np.int64)
    pred[2:5, 2:5], labels[2:5, 4:7] = 1, 1  # class 1 in both: 2
    pred[7, 20] = 2  # class 2 predicted only: 0; class 3 nowhere: 0
    hd = hausdorff_distance_95_per_class(pred, labels)
    assert hd.tolist() == pytest.approx([2.0, 0.0, 0.0])
    assert hausdorff_distance_95(pred, labels) == pytest.approx(2.0 / 3)  # zeros count
    # missed (in the ground truth only): the image diagonal, in mm with spacing
    hd = hausdorff_distance_95_per_class(labels * 0, labels, spacing=(2.0, 0.5))
    np.testing.assert_allclose(hd, [np.hypot(20, 12), 0.0, 0.0])
    with pytest.raises(RuntimeError):  # medpy leaves the rule to the caller
        medpy_hd95(labels * 0 == 1, labels == 1)
    # nothing anywhere: 0, never NaN
    assert hausdorff_distance_95(labels * 0, labels * 0) == 0.0
    # the diagonal is the worst score any prediction can get
    worst = labels * 0
    worst[0, 0], worst[-1, -1] = 1, 1
    labels2 = labels * 0
    labels2[0, -1] = 1
    assert hausdorff_distance_95_per_class(worst, labels2)[0] < np.hypot(10, 24)


def test_hd95_mm_on_the_scorer():
    """``hd95`` is in voxels; ``hd95_mm`` uses the scorer's spacing and is NaN without."""
    probs, labels = random_segmentation(3, (5, 20, 24))
    spacing = (8.0, 1.4, 1.4)
    memo: dict = {}
    scorer = ScanScorer(probs, labels, spacing=spacing, memo=memo)
    pred = probs.argmax(0)
    assert scorer.hd95() == pytest.approx(np.mean(oracle_per_class(pred, labels)))
    assert scorer.hd95_mm() == pytest.approx(np.mean(oracle_per_class(pred, labels, spacing)))
    assert len(memo) == 2  # keyed by the spacing too
    assert np.isnan(ScanScorer(probs, labels).hd95_mm())
    scores = scan_metrics(probs, labels, metrics=["hd95", "hd95_mm"], spacing=spacing)
    assert scores == {"hd95": scorer.hd95(), "hd95_mm": scorer.hd95_mm()}
    assert METRICS["hd95"].display_name == "HD95 (px)"
    assert METRICS["hd95_mm"].display_name == "HD95 (mm)"
    assert not METRICS["hd95_mm"].percent and not METRICS["hd95_mm"].higher_is_better
    with pytest.raises(ValueError, match="spacing"):
        ScanScorer(probs, labels, spacing=(1.4, 1.4))  # the slice spacing is needed too
    with pytest.raises(ValueError, match="spacing"):
        ScanScorer(probs, labels, spacing=(8.0, 1.4, float("nan")))


def test_torch_is_not_imported():
    code = (
        "import sys, oodcalib.metrics\n"
        "assert 'monai' not in sys.modules and 'torch' not in sys.modules\n"
        "assert 'medpy' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_errors():
    assert_rejects_bad_inputs(hausdorff_distance_95)
    pred, labels = np.zeros((6, 6), np.int64), np.zeros((6, 6), np.int64)
    with pytest.raises(ValueError, match="num_classes|classes"):
        hausdorff_distance_95(np.zeros((3, 6, 6)), labels)
    with pytest.raises(ValueError, match="prediction must lie"):
        hausdorff_distance_95(pred + 4, labels)
    with pytest.raises(ValueError, match="labels must lie"):
        hausdorff_distance_95(pred, labels - 1)
    with pytest.raises(ValueError, match="integer"):
        hausdorff_distance_95(pred.astype(float), labels)
    with pytest.raises(ValueError, match="spacing"):
        hausdorff_distance_95(pred, labels, spacing=(1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="spacing"):
        hausdorff_distance_95(pred, labels, spacing=(1.0, 0.0))
    with pytest.raises(ValueError, match="2D image or a 3D volume"):
        hausdorff_distance_95(pred[0], labels[0])
