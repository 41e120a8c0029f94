"""The compiled U-Net computes the eager one's function, for any batch, and falls back."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from oodcalib.benchmark.protocol.forward_counter import ForwardCounter
from oodcalib.segmentation.compilation import CompiledForward, compile_unet
from oodcalib.segmentation.inference import predict_logits
from oodcalib.segmentation.unet import UNet


def twins() -> tuple[UNet, UNet]:
    torch.manual_seed(0)
    eager = UNet(1, 4, width=2, depth=2)
    compiled = UNet(1, 4, width=2, depth=2)
    compiled.load_state_dict(eager.state_dict())
    return eager, compile_unet(compiled)


def test_compiled_logits_match_eager_for_short_full_and_long_stacks():
    eager, compiled = twins()
    rng = np.random.default_rng(0)
    for slices in (1, 3, 8, 10):  # padded to 8; exactly 8; 8 + a padded 2
        image = rng.random((slices, 16, 16), dtype=np.float32)
        got, want = predict_logits(compiled, image), predict_logits(eager, image)
        assert got.shape == want.shape == (slices, 4, 16, 16)
        np.testing.assert_allclose(got, want, atol=1e-4)
        assert (got.argmax(1) == want.argmax(1)).mean() > 0.999


def test_a_compiled_training_step_gives_the_eager_gradients():
    eager, compiled = twins()
    x, y = torch.rand(8, 1, 16, 16), torch.randint(0, 4, (8, 16, 16))
    for net in (eager, compiled):
        torch.nn.functional.cross_entropy(net.train()(x), y).backward()
    for (name, a), (_, b) in zip(
        eager.named_parameters(), compiled.named_parameters(), strict=True
    ):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), atol=1e-4, err_msg=name)


def test_compiling_keeps_the_module_its_hooks_and_its_pickles():
    eager, compiled = twins()
    assert compiled.state_dict().keys() == eager.state_dict().keys()
    counter = ForwardCounter(compiled)
    with counter.stage("logits"):
        predict_logits(compiled, np.zeros((3, 16, 16), np.float32))
    assert dict(counter.counts) == {"logits": 3}  # the padding slices are not counted
    restored = pickle.loads(pickle.dumps(compiled))
    assert "compiled_body" not in restored.__dict__
    x = torch.rand(2, 1, 16, 16)
    torch.testing.assert_close(restored.eval()(x), eager.eval()(x))


def test_a_failing_compiler_warns_and_runs_eagerly():
    forward = CompiledForward(lambda t: 2 * t, pad_to=4)

    def broken(_):
        raise RuntimeError("no C++ compiler\ndetails")

    forward.compiled = broken
    with pytest.warns(RuntimeWarning, match="no C\\+\\+ compiler"):
        assert forward(torch.ones(3)).tolist() == [2.0, 2.0, 2.0]
    assert forward.failed and forward(torch.ones(1)).tolist() == [2.0]


def test_speed_times_the_compiled_net_with_the_eager_flop_count():
    from oodcalib.segmentation.throughput import unet_rates

    eager = unet_rates(width=2, depth=2, size=16, batch=8, repeats=1)
    compiled = unet_rates(width=2, depth=2, size=16, batch=8, repeats=1, compile=True)
    assert compiled["infer_flops"] == eager["infer_flops"] > 0
    assert compiled["train_flops"] == eager["train_flops"] > 0
    assert compiled["compile_seconds"] > 0 == eager["compile_seconds"]
