"""Shared inputs and numpy building blocks for the loss oracles.

The oracles in the test modules are written independently of the implementation: explicit
loops over images, classes and pixels in numpy (float64), from REFERENCE.md section 2.
"""

from __future__ import annotations

import numpy as np
import torch

SEEDS = range(12)
CLASSES = 4


def random_case(
    seed: int,
    shape=(2, CLASSES, 5, 5),
    scale: float = 3.0,
    dtype=torch.float64,
    all_present: bool = False,
):
    """Random logits ``(N, C, H, W)`` of spread ``scale`` and labels ``(N, H, W)``."""
    g = torch.Generator().manual_seed(seed)
    n, c, h, w = shape
    logits = (torch.randn(shape, generator=g) * scale).to(dtype)
    while True:
        target = torch.randint(0, c, (n, h, w), generator=g)
        if not all_present or len(target.unique()) == c:
            return logits, target


def softmax_np(logits: torch.Tensor) -> np.ndarray:
    """Softmax over axis 1 in float64 numpy."""
    x = logits.detach().double().numpy()
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def log_softmax_np(logits: torch.Tensor) -> np.ndarray:
    x = logits.detach().double().numpy()
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def one_hot_np(target: torch.Tensor, classes: int) -> np.ndarray:
    t = target.numpy()
    out = np.zeros((t.shape[0], classes) + t.shape[1:])
    for n in range(t.shape[0]):
        for i in range(t.shape[1]):
            for j in range(t.shape[2]):
                out[n, t[n, i, j], i, j] = 1.0
    return out


def ce_np(logits: torch.Tensor, target: torch.Tensor) -> float:
    """Mean cross-entropy by explicit loops."""
    log_p, t = log_softmax_np(logits), target.numpy()
    total = 0.0
    for n in range(t.shape[0]):
        for i in range(t.shape[1]):
            for j in range(t.shape[2]):
                total -= log_p[n, t[n, i, j], i, j]
    return total / t.size


def value_and_grad(loss, logits: torch.Tensor, target: torch.Tensor):
    """The loss value and the gradient with respect to the logits."""
    x = logits.detach().clone().requires_grad_(True)
    value = loss(x, target)
    value.backward()
    return value.detach(), x.grad


def assert_finite(loss, logits: torch.Tensor, target: torch.Tensor) -> None:
    value, grad = value_and_grad(loss, logits, target)
    assert value.shape == () and value.dtype == logits.dtype
    assert torch.isfinite(value), f"loss is {value}"
    assert torch.isfinite(grad).all(), "non-finite gradient"


def gradcheck(loss, logits: torch.Tensor, target: torch.Tensor) -> bool:
    x = logits.detach().double().clone().requires_grad_(True)
    return torch.autograd.gradcheck(lambda v: loss(v, target), (x,), eps=1e-6, atol=1e-6, rtol=1e-4)
