"""HD95 against MONAI's ``compute_hausdorff_distance`` and a whole-image scipy oracle
(erosion edges, Euclidean distance transform, percentiles; the implementation crops), and
hand cases: known distances, anisotropic spacing, the absent and one-sided rules."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from scipy.ndimage import binary_erosion, distance_transform_edt, gaussian_filter

from oodcalib.metrics import hausdorff_distance_95, hausdorff_distance_95_per_class
from tests.metrics.helpers import SEEDS, assert_rejects_bad_inputs


def scipy_hd95(pred, truth, spacing):
    """max of the two directed 95th percentiles of edge-to-edge distances (medpy's hd95)."""
    edge_p, edge_t = pred ^ binary_erosion(pred), truth ^ binary_erosion(truth)
    to_truth = distance_transform_edt(~edge_t, sampling=spacing)[edge_p]
    to_pred = distance_transform_edt(~edge_p, sampling=spacing)[edge_t]
    return max(np.percentile(to_truth, 95), np.percentile(to_pred, 95))


def random_segmentation(seed, shape, num_classes=4):
    """Smooth random label maps: ground truth and a perturbed prediction (with probs)."""
    rng = np.random.default_rng(seed)
    sigma = (0,) + (0.5,) * (len(shape) == 3) + (3, 3)
    field = gaussian_filter(rng.normal(size=(num_classes, *shape)), sigma)
    noisy = field + 0.3 * gaussian_filter(rng.normal(size=field.shape), sigma)
    probs = np.exp(20 * noisy) / np.exp(20 * noisy).sum(0)
    return probs, field.argmax(0)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    ("shape", "spacing"),
    [((32, 28), None), ((32, 28), (1.5, 0.7)), ((5, 20, 24), None), ((5, 20, 24), (6, 1.2, 0.9))],
)
def test_matches_scipy_oracle(seed, shape, spacing):
    probs, labels = random_segmentation(seed, shape)
    pred = probs.argmax(0)
    expected = []
    for c in range(1, 4):
        assert (pred == c).any() and (labels == c).any()
        expected.append(scipy_hd95(pred == c, labels == c, spacing or (1,) * len(shape)))
    hd = hausdorff_distance_95_per_class(probs, labels, spacing)
    np.testing.assert_allclose(hd, expected, rtol=1e-6)
    assert np.array_equal(hausdorff_distance_95_per_class(pred, labels, spacing), hd)
    assert hausdorff_distance_95(probs, labels, spacing) == pytest.approx(np.mean(hd))
    torch_hd = hausdorff_distance_95_per_class(
        torch.from_numpy(probs).float(), torch.from_numpy(labels), spacing
    )
    np.testing.assert_allclose(torch_hd, hd, rtol=1e-6)


def test_single_pixels_and_spacing():
    pred, labels = np.zeros((20, 30), np.int64), np.zeros((20, 30), np.int64)
    pred[5, 4], labels[5, 11] = 1, 1  # 7 columns apart
    pred[2, 20], labels[6, 23] = 2, 2  # 4 rows and 3 columns apart: 5
    assert hausdorff_distance_95_per_class(pred, labels, num_classes=3).tolist() == [7.0, 5.0]
    # anisotropic spacing scales each axis: rows 2 mm, columns 0.5 mm
    hd = hausdorff_distance_95_per_class(pred, labels, spacing=(2.0, 0.5), num_classes=3)
    np.testing.assert_allclose(hd, [3.5, np.hypot(8.0, 1.5)], rtol=1e-6)
    assert hausdorff_distance_95(pred, labels, spacing=2.0, num_classes=3) == pytest.approx(12.0)


def test_squares_in_a_volume():
    # a 4x4 square shifted by 3 along one axis gives 3 in voxels, times that axis's spacing
    pred, labels = np.zeros((6, 16, 16), np.int64), np.zeros((6, 16, 16), np.int64)
    pred[2:4, 3:7, 3:7], labels[2:4, 3:7, 6:10] = 2, 2
    assert hausdorff_distance_95(pred, labels) == pytest.approx(3.0)
    assert hausdorff_distance_95(pred, labels, spacing=(10.0, 1.0, 1.5)) == pytest.approx(4.5)
    assert hausdorff_distance_95(pred, labels, spacing=(10.0, 1.5, 1.0)) == pytest.approx(3.0)
    labels[2:4] = np.swapaxes(labels[2:4], 1, 2)  # now shifted along rows instead
    assert hausdorff_distance_95(pred, labels, spacing=(10.0, 1.5, 1.0)) == pytest.approx(4.5)


def test_absent_and_one_sided_rules():
    pred, labels = np.zeros((10, 24), np.int64), np.zeros((10, 24), np.int64)
    pred[2:5, 2:5], labels[2:5, 4:7] = 1, 1  # class 1 in both: 2
    pred[7, 20] = 2  # class 2 predicted only: the diagonal; class 3 nowhere: NaN
    diagonal = np.hypot(10, 24)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # MONAI must not warn about empty masks
        hd = hausdorff_distance_95_per_class(pred, labels)
        np.testing.assert_allclose(hd, [2.0, diagonal, np.nan], rtol=1e-6)
        assert hausdorff_distance_95(pred, labels) == pytest.approx((2 + diagonal) / 2)
        # missed entirely (in the ground truth only): the same penalty, in mm with spacing
        hd = hausdorff_distance_95_per_class(labels * 0, labels, spacing=(2.0, 0.5))
        np.testing.assert_allclose(hd, [np.hypot(20, 12), np.nan, np.nan])
        assert np.isnan(hausdorff_distance_95(labels * 0, labels * 0))
        assert np.isnan(hausdorff_distance_95_per_class(labels * 0, labels * 0)).all()


def monai_hd95(pred, truth, spacing):
    from monai.metrics import compute_hausdorff_distance

    with warnings.catch_warnings():  # MONAI 1.5+ passes its own deprecated argument
        warnings.simplefilter("ignore", FutureWarning)
        return float(
            compute_hausdorff_distance(
                torch.from_numpy(pred[None, None]),
                torch.from_numpy(truth[None, None]),
                include_background=True,
                percentile=95,
                spacing=list(spacing),
            ).item()
        )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    ("shape", "spacing"),
    [
        ((40, 36), (1.0, 1.0)),
        ((40, 36), (1.5, 0.7)),
        ((6, 24, 28), (1, 1, 1)),
        ((6, 24, 28), (6.0, 1.2, 0.9)),
    ],
)
def test_matches_monai(seed, shape, spacing):
    probs, labels = random_segmentation(seed, shape)
    pred = probs.argmax(0)
    expected = [monai_hd95(pred == c, labels == c, spacing) for c in range(1, 4)]
    np.testing.assert_allclose(
        hausdorff_distance_95_per_class(pred, labels, spacing), expected, rtol=1e-5
    )


def test_masks_touching_the_image_border():
    """The crop keeps the image border as background for the erosion, as MONAI does."""
    pred, labels = np.zeros((12, 12), np.int64), np.zeros((12, 12), np.int64)
    pred[0:5, 0:6], labels[0:7, 0:4] = 1, 1
    expected = monai_hd95(pred == 1, labels == 1, (1.0, 1.0))
    assert hausdorff_distance_95_per_class(pred, labels)[0] == pytest.approx(expected)


def test_torch_is_not_imported():
    code = (
        "import sys, oodcalib.metrics\n"
        "assert 'monai' not in sys.modules and 'torch' not in sys.modules"
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
