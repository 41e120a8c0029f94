"""The training-loss contract, checked on every entry of ``LOSSES``.

Whatever is registered (a new loss is covered as soon as it is added to the registry)
must give a finite scalar with finite gradients, also at saturated logits and with a
class missing from the batch, pass ``gradcheck`` in float64, prefer the right answer to
a wrong one, and refuse hyperparameters it does not take. The oracle values of the
built-in losses are in ``test_losses.py`` and ``losses/``.
"""

from __future__ import annotations

import inspect

import pytest
import torch
import torch.nn.functional as F

from oodcalib.errors import OodcalibError, UnknownNameError
from oodcalib.segmentation.losses import LOSSES, get_loss

NAMES = list(LOSSES)
CLASSES = 4


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: a thread pool per op costs more than the work on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def one_hot(target: torch.Tensor, scale: float, dtype=torch.float32) -> torch.Tensor:
    """Logits ``scale`` on the target class and 0 elsewhere, ``(N, C, H, W)``."""
    return scale * F.one_hot(target, CLASSES).permute(0, 3, 1, 2).to(dtype)


def targets(seed: int, shape=(2, 6, 6), classes: int = CLASSES) -> torch.Tensor:
    """Random labels in ``[0, classes)`` (each present: redrawn until so)."""
    g = torch.Generator().manual_seed(seed)
    while True:
        t = torch.randint(0, classes, shape, generator=g)
        if len(t.unique()) == classes:
            return t


def loss_and_grad(name: str, logits: torch.Tensor, target: torch.Tensor):
    logits = logits.detach().clone().requires_grad_(True)
    loss = get_loss(name)(logits, target)
    loss.backward()
    return loss.detach(), logits.grad


def test_the_registry_is_not_empty():
    assert {"ce", "dice_ce"} <= set(NAMES)  # the parametrised tests below do run


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name", NAMES)
def test_scalar_finite_output_with_finite_gradients(name, seed):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(2, CLASSES, 6, 6, generator=g) * 3
    loss, grad = loss_and_grad(name, logits, targets(seed))
    assert loss.shape == () and loss.dtype == torch.float32
    assert torch.isfinite(loss)
    assert grad.shape == logits.shape and torch.isfinite(grad).all()
    assert grad.abs().sum() > 0  # the loss depends on the logits


@pytest.mark.parametrize("absent", [None, 0, 3])
@pytest.mark.parametrize("name", NAMES)
def test_finite_at_extreme_logits_and_with_an_absent_class(name, absent):
    """Logits of +-50 (saturated softmax, right and confidently wrong pixels), with or
    without one class (background or foreground) missing from the batch."""
    target = targets(1)
    if absent is not None:
        target = torch.where(target == absent, (absent + 1) % CLASSES, target)
        assert absent not in target.unique()
    g = torch.Generator().manual_seed(2)
    signs = torch.randint(0, 2, (2, CLASSES, 6, 6), generator=g) * 2 - 1
    for logits in (
        50.0 * signs,
        one_hot(target, 100.0) - 50,
        one_hot((target + 1) % CLASSES, 100.0) - 50,
    ):
        loss, grad = loss_and_grad(name, logits.float(), target)
        assert torch.isfinite(loss), f"{name} is not finite at logits +-50"
        assert torch.isfinite(grad).all(), f"{name} has non-finite gradients at logits +-50"


@pytest.mark.parametrize("absent", [None, 2])
@pytest.mark.parametrize("name", NAMES)
def test_gradcheck_in_float64(name, absent):
    target = targets(3, shape=(1, 3, 3), classes=CLASSES if absent is None else 2)
    if absent is not None:  # labels {0, 1} remapped to {0, 3}: classes 1 and 2 absent
        target = target * 3
    logits = torch.randn(
        1,
        CLASSES,
        3,
        3,
        dtype=torch.float64,
        generator=torch.Generator().manual_seed(4),
        requires_grad=True,
    )
    loss = get_loss(name)
    assert loss(logits, target).dtype == torch.float64
    assert torch.autograd.gradcheck(lambda x: loss(x, target), (logits,), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name", NAMES)
def test_near_perfect_prediction_beats_a_wrong_and_an_uninformed_one(name, seed):
    """Right means right and confident but not saturated (logit gap 3, p_y = 0.87): losses
    that penalise over-confidence (``ls``, ``svls``) rightly score a saturated right answer
    above the uniform one. A saturated wrong answer stays the worst."""
    target = targets(seed)
    loss = get_loss(name)
    perfect = float(loss(one_hot(target, 3.0), target))
    wrong = float(loss(one_hot((target + 1) % CLASSES, 3.0), target))
    uniform = float(loss(torch.zeros(2, CLASSES, 6, 6), target))
    assert perfect < uniform < wrong
    assert wrong < float(loss(one_hot((target + 1) % CLASSES, 20.0), target))


def factory_parameters(name: str) -> list[str]:
    return [
        p.name
        for p in inspect.signature(LOSSES[name]).parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


@pytest.mark.parametrize("name", NAMES)
def test_unknown_hyperparameter_lists_the_valid_ones(name):
    valid = factory_parameters(name)
    with pytest.raises(
        OodcalibError,
        match=rf"loss '{name}' has no hyperparameter "
        r"'not_a_hyperparameter'; valid: ",
    ) as info:
        get_loss(name, not_a_hyperparameter=1.0)
    assert not isinstance(info.value, UnknownNameError)  # the loss itself was found
    listed = str(info.value).split("valid: ")[1]
    assert listed == (", ".join(valid) or "none")
    parameters = inspect.signature(LOSSES[name]).parameters
    for hp in valid:  # each one listed is accepted (at its default)
        assert callable(get_loss(name, **{hp: parameters[hp].default}))


def test_dice_ce_weights_are_its_hyperparameters():
    """Hand case of the listing: dice_ce takes its two weights, ce takes none."""
    with pytest.raises(OodcalibError, match="valid: dice_weight, ce_weight$"):
        get_loss("dice_ce", alpha=0.1)
    with pytest.raises(OodcalibError, match="valid: none$"):
        get_loss("ce", weight=1.0)
