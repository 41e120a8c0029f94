"""Output channels mapped to background, RV, MYO, LV: reordered, merged, shape-checked."""

from __future__ import annotations

import pytest
import torch

from oodcalib.errors import DataError
from oodcalib.segmentation.networks.class_map import ClassMap


def test_identity_map_returns_the_network_output_unchanged():
    net = torch.nn.Conv2d(1, 4, 3, padding=1)
    x = torch.randn(3, 1, 8, 8)
    assert torch.equal(ClassMap(net, (0, 1, 2, 3), "n.pt")(x), net(x))


def test_reordered_and_merged_channels_give_the_summed_probabilities():
    net = torch.nn.Conv2d(1, 5, 3, padding=1)
    x = torch.randn(2, 1, 8, 8)
    classes = (3, 0, 2, 1, 0)  # LV first, two background channels
    probs = torch.softmax(net(x), 1)
    expected = torch.stack(
        [probs[:, 1] + probs[:, 4], probs[:, 3], probs[:, 2], probs[:, 0]], dim=1
    )
    mapped = torch.softmax(ClassMap(net, classes, "n.pt")(x), 1)
    assert torch.allclose(mapped, expected, atol=1e-6)


@pytest.mark.parametrize(
    "net",
    [
        torch.nn.Conv2d(1, 3, 1),  # K = 3, four declared
        torch.nn.Sequential(torch.nn.Conv2d(1, 4, 1), torch.nn.MaxPool2d(2)),  # half size
        torch.nn.Conv2d(3, 4, 1),  # wants three input channels
    ],
)
def test_wrong_output_shapes_and_failures_name_the_file(net):
    with pytest.raises(DataError, match=r"^n\.pt: the network"):
        ClassMap(net, (0, 1, 2, 3), "n.pt")(torch.zeros(2, 1, 8, 8))
