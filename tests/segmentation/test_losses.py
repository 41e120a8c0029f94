import pytest
import torch
import torch.nn.functional as F

from oodcalib.errors import UnknownNameError
from oodcalib.segmentation.losses import LOSSES, get_loss, register_loss, soft_dice_loss


def test_dice_ce_is_sum_of_parts_and_hand_case():
    torch.manual_seed(0)
    logits, target = torch.randn(2, 4, 8, 8), torch.randint(0, 4, (2, 8, 8))
    total = get_loss("dice_ce")(logits, target)
    assert float(total) == pytest.approx(
        float(F.cross_entropy(logits, target) + soft_dice_loss(logits, target)), rel=1e-6
    )
    # uniform logits: p = 1/4 everywhere; one foreground pixel of class 1 in a 2-pixel image
    uniform, t = torch.zeros(1, 4, 1, 2), torch.tensor([[[0, 1]]])
    eps = 1e-5
    d1 = (2 * 0.25 + eps) / (0.5 + 1 + eps)
    d_absent = eps / (0.5 + eps)
    expected = 1 - (d1 + 2 * d_absent) / 3
    assert float(soft_dice_loss(uniform, t)) == pytest.approx(expected, rel=1e-5)


def test_loss_decreases_towards_the_target():
    target = torch.randint(0, 4, (1, 6, 6))
    onehot = F.one_hot(target, 4).permute(0, 3, 1, 2).float()
    loss = get_loss("dice_ce")
    assert float(loss(5 * onehot, target)) < float(loss(torch.zeros_like(onehot), target))


def test_registry_accepts_new_losses_and_lists_names():
    @register_loss("test_only")
    def _factory():
        return lambda logits, target: logits.sum() * 0

    try:
        assert float(get_loss("test_only")(torch.ones(1, 4, 2, 2), None)) == 0
    finally:
        LOSSES.pop("test_only")
    with pytest.raises(UnknownNameError, match="ce, dice_ce"):
        get_loss("focal_typo")
