"""The forward batch: its size follows the slice size; it changes logits by rounding only,
and a chunked training step is the whole batch's step."""

import pytest
import torch

from oodcalib.segmentation.batching import forward_in_batches, slices_per_batch, training_logits
from oodcalib.segmentation.compilation import CompiledForward
from oodcalib.segmentation.losses import get_loss
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


def _gradients(net: torch.nn.Module, logits: torch.Tensor, y: torch.Tensor, loss: str):
    net.zero_grad(set_to_none=True)
    value = get_loss(loss)(logits, y)
    value.backward()
    return value.detach(), [p.grad.clone() for p in net.parameters()]


@pytest.mark.parametrize("loss", ["ce", "dice_ce", "hl1ace"])  # batch Dice and ACE bins
def test_a_chunked_training_step_is_the_whole_batch_step(loss):
    torch.manual_seed(0)
    net = UNet(1, 4, width=4, depth=2).train()
    x, y = torch.rand(8, 1, 128, 128), torch.randint(0, 4, (8, 128, 128))  # chunks of 4
    whole_loss, whole = _gradients(net, net(x), y, loss)
    chunked_loss, chunked = _gradients(net, training_logits(net, x), y, loss)
    torch.testing.assert_close(chunked_loss, whole_loss, rtol=1e-5, atol=1e-6)
    for a, b in zip(chunked, whole, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_a_batch_of_one_chunk_is_forwarded_at_once():
    calls = []
    net = torch.nn.Conv2d(1, 2, 3, padding=1)
    net.register_forward_hook(lambda module, args, out: calls.append(args[0].shape[0]))
    training_logits(net, torch.rand(8, 1, 96, 96))  # the quick preset's batch
    training_logits(net, torch.rand(16, 1, 192, 192))  # the paper preset's
    assert calls == [8, 2, 2, 2, 2, 2, 2, 2, 2]
