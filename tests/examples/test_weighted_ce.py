"""examples/plugins/weighted_ce.py: a training loss added by one file."""

import math

import pytest
import torch

from oodcalib.segmentation.losses import get_loss


def test_hand_computed_two_pixels(plugin):
    """Pixels of class 0 (p = 0.5) and 1 (p = 0.25), weights 1 and 3."""
    plugin("weighted_ce")
    logits = torch.log(torch.tensor([[0.5, 0.5], [0.75, 0.25]])).T.reshape(1, 2, 1, 2)
    target = torch.tensor([[[0, 1]]])
    loss = get_loss("weighted_ce", weights=[1.0, 3.0])(logits, target)
    expected = (1 * -math.log(0.5) + 3 * -math.log(0.25)) / (1 + 3)
    assert float(loss) == pytest.approx(expected, rel=1e-6)


def test_trains_the_segmenter_through_loss_params(plugin, tiny_run):
    path = plugin("weighted_ce")
    results = tiny_run(
        "train.loss=weighted_ce", "train.loss_params.weights=[1.0, 2.0, 2.0, 2.0]", plugins=(path,)
    )
    assert len(results) > 0 and results["value"].notna().any()
