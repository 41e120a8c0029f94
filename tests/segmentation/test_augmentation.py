import pytest
import torch

from oodcalib.segmentation.augmentation import (
    AugmentationConfig,
    augment_batch,
    geometric,
    photometric,
)


def test_seeded_replay():
    x, y = torch.rand(3, 1, 32, 32), torch.randint(0, 4, (3, 32, 32))
    a = augment_batch(x, y, torch.Generator().manual_seed(5))
    b = augment_batch(x, y, torch.Generator().manual_seed(5))
    c = augment_batch(x, y, torch.Generator().manual_seed(6))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_photometric_keeps_range_and_geometry():
    x = torch.rand(4, 1, 16, 16)
    out = photometric(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    assert not torch.allclose(out, x)


def test_geometric_moves_image_and_label_together():
    """A bright square labelled 3 stays labelled 3 where it lands (same grid for both)."""
    x = torch.zeros(8, 1, 48, 48)
    x[:, :, 16:32, 16:32] = 1
    y = (x[:, 0] > 0.5).long() * 3
    cfg = AugmentationConfig(elastic_prob=1.0)
    wx, wy = geometric(x, y, torch.Generator().manual_seed(1), cfg)
    assert set(wy.unique().tolist()) <= {0, 3}
    inside = wx[:, 0][wy == 3]
    outside = wx[:, 0][wy == 0]
    assert inside.mean() > 0.9 and outside.mean() < 0.1
    assert not torch.equal(wy, y)


def test_identity_config_is_identity():
    cfg = AugmentationConfig(rotation_deg=0, scale=(1, 1), translation=0, elastic_prob=0)
    x, y = torch.rand(2, 1, 16, 16), torch.randint(0, 4, (2, 16, 16))
    wx, wy = geometric(x, y, torch.Generator().manual_seed(0), cfg)
    assert torch.allclose(wx, x, atol=1e-5) and torch.equal(wy, y)


@pytest.mark.parametrize(("scale", "shift"), [(4.0, -2.0), (1000.0, 0.0), (0.5, -3.0)])
def test_photometric_acts_on_an_out_of_range_image_in_its_own_range(scale, shift):
    # a z-scored or raw slice is augmented as its [0, 1] image would be, mapped back
    torch.manual_seed(1)
    unit = torch.rand(2, 1, 16, 16)
    unit[:, :, 0, 0], unit[:, :, 0, 1] = 0.0, 1.0  # each image spans [0, 1] exactly
    wide = unit * scale + shift  # outside [0, 1]: min < 0 or max > 1
    expected = photometric(unit, torch.Generator().manual_seed(3)) * scale + shift
    got = photometric(wide, torch.Generator().manual_seed(3))
    assert torch.allclose(got, expected, rtol=1e-5, atol=1e-5 * scale)
    assert got.min() >= shift - 1e-4 * scale and got.max() <= shift + scale * (1 + 1e-5)


def test_photometric_leaves_in_range_images_of_a_mixed_batch_bit_identical():
    torch.manual_seed(2)
    unit = torch.rand(3, 1, 16, 16)
    mixed = unit.clone()
    mixed[1] = mixed[1] * 6 - 3  # one z-score-like image in the batch
    alone = photometric(unit, torch.Generator().manual_seed(5))
    together = photometric(mixed, torch.Generator().manual_seed(5))
    assert torch.equal(together[0], alone[0]) and torch.equal(together[2], alone[2])
    assert together[1].min() < 0  # not clipped to [0, 1]
