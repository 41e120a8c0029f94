import pytest
import torch

from oodcalib.segmentation.unet import UNet


@pytest.mark.parametrize(("width", "depth", "size"), [(2, 2, 8), (4, 3, 16), (4, 4, 24)])
def test_output_shape_and_gradients(width, depth, size):
    net = UNet(1, 4, width=width, depth=depth)
    x = torch.randn(2, 1, size, size, requires_grad=True)
    out = net(x)
    assert out.shape == (2, 4, size, size)
    out.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_width_controls_capacity_and_bad_sizes_are_explained():
    small = sum(p.numel() for p in UNet(width=4, depth=3).parameters())
    large = sum(p.numel() for p in UNet(width=8, depth=3).parameters())
    assert large > 3 * small
    with pytest.raises(ValueError, match="divisible by 4"):
        UNet(width=2, depth=3)(torch.zeros(1, 1, 10, 10))
    with pytest.raises(ValueError):
        UNet(depth=1)
