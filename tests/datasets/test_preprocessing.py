import numpy as np
import pytest

from oodcalib.datasets.case import Case
from oodcalib.datasets.preprocessing import (
    crop_or_pad,
    prepare_case,
    resample_inplane,
    resize_inplane,
    robust_normalise,
)


@pytest.mark.parametrize("shape", [(3, 50, 70), (2, 64, 64), (1, 100, 20)])
def test_crop_or_pad_size_and_centre(shape):
    x = np.zeros(shape)
    x[:, shape[1] // 2, shape[2] // 2] = 1
    out = crop_or_pad(x, 64)
    assert out.shape == (shape[0], 64, 64)
    ys, xs = np.nonzero(out[0])
    assert abs(ys[0] - 32) <= 1 and abs(xs[0] - 32) <= 1


def test_crop_ignores_the_label():
    """The crop window is a function of the image grid only (no ground-truth leakage)."""
    rng = np.random.default_rng(0)
    image = rng.random((2, 80, 90)).astype(np.float32)
    a = np.zeros((2, 80, 90), np.uint8)
    a[:, 5:10, 5:10] = 1
    b = np.zeros_like(a)
    b[:, 60:70, 70:80] = 3
    ca = prepare_case(Case("a", image, a, "clean"), 48, None)
    cb = prepare_case(Case("b", image, b, "clean"), 48, None)
    np.testing.assert_array_equal(ca.image, cb.image)


def test_resampling_to_target_spacing():
    image = np.random.default_rng(0).random((2, 100, 100)).astype(np.float32)
    label = np.zeros((2, 100, 100), np.uint8)
    label[:, 40:60, 40:60] = 2
    case = prepare_case(Case("c", image, label, "lge", spacing=(0.75, 0.75)), 64, 1.5)
    assert case.spacing == (1.5, 1.5) and case.image.shape == (2, 64, 64)
    assert set(np.unique(case.label)) == {0, 2}
    assert abs(int((case.label[0] == 2).sum()) - 100) <= 25  # 20x20 px at half resolution


def test_resampling_keeps_each_slice_to_itself():
    """Slice by slice: a constant slice between textured ones stays constant, and each
    output slice equals that slice resampled on its own."""
    rng = np.random.default_rng(1)
    image = rng.random((3, 60, 60)).astype(np.float32) * 100
    image[1] = 42.0
    case = Case("c", image, None, "lge", spacing=(0.75, 0.75))
    stack = resample_inplane(case, 1.5)
    assert stack.image.shape == (3, 30, 30)
    np.testing.assert_allclose(stack.image[1], 42.0, rtol=1e-5)
    alone = resample_inplane(Case("d", image[2:], None, "lge", spacing=(0.75, 0.75)), 1.5)
    np.testing.assert_array_equal(stack.image[2], alone.image[0])


def test_shrinking_is_anti_aliased():
    """A checkerboard at the pixel pitch averages to grey when halved (no aliasing)."""
    board = (np.indices((64, 64)).sum(0) % 2).astype(np.float32)[None]
    small = resample_inplane(Case("c", board, None, "lge", spacing=(0.75, 0.75)), 1.5)
    assert abs(float(small.image.mean()) - 0.5) < 0.02
    assert float(small.image[0, 4:-4, 4:-4].std()) < 0.05


def test_robust_normalise_range_and_outliers():
    x = np.linspace(0, 1, 10000).reshape(100, 100)
    x[0, 0] = 1e6
    y = robust_normalise(x)
    assert y.min() == 0 and y.max() == 1
    assert y[50, 50] == pytest.approx(0.5, abs=0.01)
    assert robust_normalise(np.ones((4, 4))).max() == 0


@pytest.mark.parametrize("factor", [2, 4])
def test_resize_averages_blocks_and_keeps_labels_and_field_of_view(factor):
    """Oracle for an integer factor: the image's block means, the label's pixel at each
    block's nearest centre, the spacing times the factor."""
    rng = np.random.default_rng(factor)
    image = rng.random((3, 16, 16)).astype(np.float32)
    label = np.repeat(
        np.repeat(rng.integers(0, 4, (3, 16 // factor, 16 // factor)), factor, 1), factor, 2
    ).astype(np.uint8)
    small = resize_inplane(Case("a", image, label, "clean", (1.5, 1.5)), 16 // factor)
    blocks = image.reshape(3, 16 // factor, factor, 16 // factor, factor).mean((2, 4))
    np.testing.assert_allclose(small.image, blocks, rtol=1e-6)
    np.testing.assert_array_equal(small.label, label[:, ::factor, ::factor])
    assert small.spacing == (1.5 * factor, 1.5 * factor)


def test_resize_to_the_same_size_is_the_identity():
    case = Case("a", np.zeros((1, 8, 8), np.float32), np.zeros((1, 8, 8), np.uint8), "clean")
    assert resize_inplane(case, 8) is case


def test_input_size_resizes_every_domain_before_corruption(tmp_path):
    from oodcalib.benchmark.protocol.run_data import load_run_data
    from oodcalib.config import build_config

    config = build_config("smoke", ["data.input_size=32", "data.max_test_cases=1"])
    data = load_run_data(config, tmp_path)
    for cases in data.test_domains.values():
        assert all(c.image.shape[1:] == (32, 32) == c.label.shape[1:] for c in cases)
    stored = sorted((tmp_path / "corrupted").rglob("*.npz"))
    assert stored  # the corruptions were simulated on the 32 px grid the network sees
    for path in stored:
        with np.load(path) as arrays:
            assert all(arrays[k].shape[-2:] == (32, 32) for k in arrays if arrays[k].ndim == 3)
