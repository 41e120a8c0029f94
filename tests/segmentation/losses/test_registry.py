"""The registry: names, hyperparameters and defaults, the re-export, and numerical safety
of every loss in float32 and float64 (saturated logits, absent class, no error pixel)."""

from __future__ import annotations

import inspect

import pytest
import torch
import torch.nn.functional as F

import oodcalib.segmentation.losses as segmentation_losses
from oodcalib.errors import OodcalibError, UnknownNameError
from oodcalib.segmentation.losses import LOSSES, get_loss, loss_hyperparameter_names
from tests.segmentation.losses.helpers import CLASSES, assert_finite, random_case

DEFAULTS = {
    "ce": {},
    "dice_ce": {"dice_weight": 1.0, "ce_weight": 1.0},
    "hl1ace": {"num_bins": 20, "ace_weight": 0.33, "dice_weight": 0.33, "ce_weight": 0.33},
    "sl1ace": {
        "num_bins": 20,
        "ace_weight": 0.33,
        "dice_weight": 0.33,
        "ce_weight": 0.33,
        "empty_weight": 0.01,
    },
    "nacl": {"alpha": 0.1, "kernel_size": 3, "prior": "mean", "sigma": 1.0, "distance": "l1"},
    "svls": {"sigma": 1.0},
    "mbls": {"margin": 5.0, "alpha": 0.1},
    "ls": {"alpha": 0.1},
    "focal": {"gamma": 3.0},
    "ecp": {"beta": 0.1},
    "meep_kl": {"lam": 0.3},
    "meep_h": {"lam": 0.3},
}
NAMES = list(DEFAULTS)


def test_the_re_export_is_the_segmentation_registry():
    assert LOSSES is segmentation_losses.LOSSES
    assert get_loss is segmentation_losses.get_loss
    assert set(NAMES) <= set(LOSSES)


@pytest.mark.parametrize("name", NAMES)
def test_hyperparameter_names_and_defaults(name):
    assert loss_hyperparameter_names(name) == list(DEFAULTS[name])
    parameters = inspect.signature(LOSSES[name]).parameters
    assert {k: parameters[k].default for k in DEFAULTS[name]} == DEFAULTS[name]


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(UnknownNameError) as info:
        get_loss("nacl_typo")
    assert str(info.value).endswith("valid names are: " + ", ".join(sorted(LOSSES)))
    with pytest.raises(
        OodcalibError,
        match="loss 'sl1ace' has no hyperparameter 'bins'; valid: "
        "num_bins, ace_weight, dice_weight, ce_weight, "
        "empty_weight$",
    ):
        get_loss("sl1ace", bins=10)
    with pytest.raises(OodcalibError, match="valid: alpha, kernel_size, prior, sigma, distance$"):
        get_loss("nacl", window=3)


def test_names_are_looked_up_like_every_registry():
    x, t = random_case(0)
    assert float(get_loss("MEEP-KL")(x, t)) == float(get_loss("meep_kl")(x, t))


def saturated(target: torch.Tensor, right: bool, dtype) -> torch.Tensor:
    """Logits +50 on the label (or on the next class) and −50 elsewhere."""
    labels = target if right else (target + 1) % CLASSES
    return (100.0 * F.one_hot(labels, CLASSES).permute(0, 3, 1, 2) - 50.0).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", NAMES)
def test_finite_values_and_gradients_in_hard_cases(name, dtype):
    _, target = random_case(0, all_present=True)
    absent = torch.where(target == 2, 1, target)  # class 2 missing from the batch
    signs = torch.randint(0, 2, (2, CLASSES, 5, 5), generator=torch.Generator().manual_seed(1))
    loss = get_loss(name)
    for labels in (target, absent, torch.zeros_like(target)):
        assert_finite(loss, saturated(labels, True, dtype), labels)  # no error pixel
        assert_finite(loss, saturated(labels, False, dtype), labels)  # all wrong, certain
        assert_finite(loss, (100.0 * signs - 50.0).to(dtype), labels)  # ±50, ties
        assert_finite(loss, torch.zeros(2, CLASSES, 5, 5, dtype=dtype), labels)  # uniform


@pytest.mark.parametrize("name", ["hl1ace", "sl1ace", "nacl", "svls", "focal", "ls"])
def test_float32_and_float64_agree(name):
    logits, target = random_case(3)
    loss = get_loss(name)
    assert float(loss(logits.float(), target)) == pytest.approx(
        float(loss(logits, target)), rel=1e-5
    )
