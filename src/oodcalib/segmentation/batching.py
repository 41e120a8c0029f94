"""Slices per forward call, sized so that activations stay in cache: inference and training.

Every layer of the U-Net acts on each slice alone (convolutions, instance norm, pooling),
so the batch size changes a slice's logits by rounding at most (eager oneDNN may pick
another kernel per batch size; the compiled U-Net gave bit-identical logits for batches of
4, 8 and 16 at 96 and 192 px). It sets the speed. A training step on the CPU forwards its
batch in the same chunks (:func:`training_logits`) and takes one loss over their
concatenated logits, so the loss and its gradient are the whole batch's.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

#: Pixels per inference batch on a CPU: 8 slices at 96 px. A U-Net runs fastest per slice
#: when a batch's activations stay in cache: at 192 px (width 32, depth 5, compiled) batches
#: of 2 or 4 slices ran 1.25x faster per slice than 8 on this project's machine; at 96 px
#: (width 16) 4 to 16 slices ran level. ``oodcalib speed`` measures at this batch.
BATCH_PIXELS = 8 * 96 * 96
#: Slices per inference batch off the CPU (not tuned on a GPU).
DEVICE_BATCH = 8


def slices_per_batch(height: int, width: int, device_type: str = "cpu") -> int:
    """Slices per inference batch for ``height x width`` inputs: at most 8.

    On the CPU, ``BATCH_PIXELS // (height * width)`` slices (at least one); elsewhere
    :data:`DEVICE_BATCH`.

    Example:
        >>> slices_per_batch(96, 96), slices_per_batch(192, 192), slices_per_batch(32, 32)
        (8, 2, 8)
    """
    if device_type != "cpu":
        return DEVICE_BATCH
    return max(1, min(8, BATCH_PIXELS // (height * width)))


def forward_in_batches(
    fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, batch_size: int | None = None
) -> torch.Tensor:
    """``fn`` applied to ``x`` in batches of ``batch_size`` along the first axis, concatenated.

    Args:
        fn: Maps a batch to its output, slice by slice.
        x: ``(N, ...)`` inputs; with 4 dimensions, the last two are the slice's size.
        batch_size: Slices per call (default :func:`slices_per_batch` of ``x``).

    Example:
        >>> forward_in_batches(lambda t: 2 * t, torch.arange(5.0), batch_size=2).tolist()
        [0.0, 2.0, 4.0, 6.0, 8.0]
    """
    if batch_size is None:
        batch_size = default_batch(x)
    return torch.cat([fn(x[i : i + batch_size]) for i in range(0, x.shape[0], batch_size)])


def default_batch(x: torch.Tensor) -> int:
    """:func:`slices_per_batch` of a batch ``x`` of shape ``(N, C, H, W)`` (8 otherwise)."""
    if x.dim() != 4:
        return 8
    return slices_per_batch(int(x.shape[-2]), int(x.shape[-1]), x.device.type)


def training_logits(model: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The logits of a training batch ``x``, for one loss and one backward pass.

    On the CPU the batch is forwarded in chunks of :func:`slices_per_batch` slices and the
    chunks' logits are concatenated: the loss sees the whole batch (a batch Dice, the ACE
    losses' bins) and autograd sums each chunk's share of the gradient, so the step is
    the whole batch's up to rounding, while each layer's activations stay in cache. At the
    paper preset's shapes (192 px, batch 16, chunks of 2) the compiled step ran about
    1.4x faster on this project's machine (docs/speed.md). A batch that fits one chunk
    (the quick preset: 8 slices of 96 px), and any batch off the CPU, is forwarded at once.

    Example:
        >>> net = torch.nn.Conv2d(1, 2, 3, padding=1)
        >>> x = torch.rand(6, 1, 160, 160)  # chunks of 2 slices at 160 px
        >>> bool(torch.allclose(training_logits(net, x), net(x), atol=1e-6))
        True
    """
    chunk = default_batch(x) if x.device.type == "cpu" else x.shape[0]
    if x.shape[0] <= chunk:
        return model(x)
    return forward_in_batches(model, x, chunk)
