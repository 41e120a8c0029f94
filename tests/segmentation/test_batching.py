"""The inference batch: its size follows the slice size; it changes logits by rounding only."""

import pytest
import torch

from oodcalib.segmentation.batching import forward_in_batches, slices_per_batch
from oodcalib.segmentation.compilation import CompiledForward
from oodcalib.segmentation.unet import UNet


@pytest.mark.parametrize(
    ("side", "device", "slices"),
    [(96, "cpu", 8), (128, "cpu", 4), (192, "cpu", 2), (400, "cpu", 1), (16, "cpu", 8),
     (192, "cuda", 8)],
)  # fmt: skip
def test_slices_per_batch_keeps_the_pixel_budget(side, device, slices):
    assert slices_per_batch(side, side, device) == slices


@pytest.mark.parametrize("batch", [None, 1, 3, 8])
def test_batch_size_changes_the_logits_by_rounding_only(batch):
    torch.manual_seed(0)
    net = UNet(1, 4, width=4, depth=2).eval()
    x = torch.rand(7, 1, 48, 40)
    with torch.no_grad():
        whole = torch.cat([net(x[i : i + 1]) for i in range(len(x))])
        batched = forward_in_batches(net, x, batch)
    torch.testing.assert_close(batched, whole, rtol=1e-5, atol=1e-5)


def test_compiled_forward_pads_to_the_default_batch():
    double = CompiledForward(lambda t: 2 * t)
    assert double.padded(torch.ones(3, 1, 192, 192)).shape[0] == 3  # 2 per batch at 192 px
    assert double.padded(torch.ones(3, 1, 96, 96)).shape[0] == 8
