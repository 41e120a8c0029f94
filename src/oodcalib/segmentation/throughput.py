"""How fast the segmentation network runs here, against this machine's fp32 peak.

:func:`matmul_rates` measures the fp32 matrix-multiply rate (GFLOP/s) that the CPU
reaches through each of torch's two matrix libraries; the faster is this machine's peak.
:func:`unet_rates` counts the U-Net's FLOPs with
:class:`torch.utils.flop_counter.FlopCounterMode` and times inference and a training step
at a preset's shapes, so each rate can be read as a fraction of the peak.
:func:`oodcalib.benchmark.protocol.cost_model.predict_seconds` turns the rates into
the wall time of a run's network work.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch.utils.flop_counter import FlopCounterMode

from oodcalib.segmentation.acceleration import Placement
from oodcalib.segmentation.batching import DEVICE_BATCH, slices_per_batch, training_logits
from oodcalib.segmentation.compilation import compile_unet
from oodcalib.segmentation.unet import UNet

#: Slices per inference batch on a GPU, as in
#: :func:`~oodcalib.segmentation.batching.forward_in_batches`.
INFER_BATCH = DEVICE_BATCH


def best_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Fastest of ``repeats`` timed calls of ``fn`` (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def count_flops(fn: Callable[[], object]) -> int:
    """Floating-point operations torch counts for one call of ``fn``.

    Example:
        >>> a = torch.ones(8, 16)
        >>> count_flops(lambda: a @ torch.ones(16, 4))  # 2 * 8 * 16 * 4
        1024
    """
    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def onednn_product(a: torch.Tensor, b: torch.Tensor) -> Callable[[], torch.Tensor]:
    """A call computing ``a @ b`` with oneDNN, the library behind torch's CPU convolutions.

    The operands are converted to oneDNN's blocked layout once, so a timed call is the
    product alone; its result is a oneDNN tensor (``.to_dense()`` reads it).

    Example:
        >>> a, b = torch.randn(8, 16), torch.randn(16, 4)
        >>> bool(torch.allclose(onednn_product(a, b)().to_dense(), a @ b, atol=1e-5))
        True
    """
    from torch.utils.mkldnn import to_mkldnn

    linear = torch.nn.Linear(b.shape[0], b.shape[1], bias=False)
    linear.weight.data = b.t().contiguous()
    fast, blocked = to_mkldnn(linear), a.to_mkldnn()

    def call() -> torch.Tensor:
        with torch.no_grad():
            return fast(blocked)

    return call


def matmul_rates(size: int = 1024, repeats: int = 5) -> dict[str, float]:
    """GFLOP/s of an fp32 ``size x size`` product (``2 size^3`` FLOPs) by each CPU library.

    ``blas`` is ``torch.matmul`` (MKL or OpenBLAS, as torch was built); ``onednn`` the same
    product by oneDNN, when torch has it. The two can differ by 2x: on AMD CPUs MKL takes
    its AVX2 code path while oneDNN uses AVX-512 (this project's AMD EPYC machine: 197-215
    against 420-479 GFLOP/s on 2 threads), and the U-Net's convolutions run on oneDNN.
    ``oodcalib speed`` takes the faster as the peak.
    """
    a, b = torch.randn(size, size), torch.randn(size, size)
    rates = {"blas": 2 * size**3 / best_seconds(lambda: a @ b, repeats) / 1e9}
    if torch.backends.mkldnn.is_available():
        product = onednn_product(a, b)
        rates["onednn"] = 2 * size**3 / best_seconds(product, repeats) / 1e9
    return rates


def unet_rates(
    width: int,
    depth: int,
    size: int,
    batch: int,
    repeats: int = 3,
    compile: bool = False,
    channels_last: bool = False,
) -> dict[str, float]:
    """FLOPs, seconds and GFLOP/s of U-Net inference and of one training step.

    Inference runs in batches of :func:`~oodcalib.segmentation.batching.slices_per_batch`
    slices, as the benchmark's; a training step on ``batch`` slices, forwarded in chunks
    as training forwards them (:func:`~oodcalib.segmentation.batching.training_logits`).
    FLOPs are counted on the eager network (the compiled one computes the same function).

    Args:
        width: Channels of the U-Net's first level.
        depth: Its resolution levels.
        size: Side of the input slices.
        batch: Slices per training step.
        repeats: Timed calls; the fastest counts.
        compile: Time the network as the benchmark runs it with ``model.compile``
            (:func:`~oodcalib.segmentation.compilation.compile_unet`);
            ``compile_seconds`` is then the time of the first calls, which compile.
        channels_last: Run the network in the ``channels_last`` layout, as
            ``model.channels_last=true`` does
            (:class:`~oodcalib.segmentation.acceleration.Placement`).

    Returns:
        ``infer_gflops``, ``train_gflops`` (rates), ``infer_seconds_per_slice``,
        ``train_seconds_per_step``, the FLOP counts ``infer_flops``, ``train_flops`` and
        ``compile_seconds`` (0 without ``compile``).
    """
    torch.manual_seed(0)
    net = UNet(1, 4, width=width, depth=depth)
    Placement(prefer_channels_last=channels_last).place(net)
    infer_batch = slices_per_batch(size, size)
    x = torch.rand(infer_batch, 1, size, size)
    xt = torch.rand(batch, 1, size, size)
    y = torch.randint(0, 4, (batch, size, size))
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-4)

    def infer() -> None:
        with torch.no_grad():
            net.eval()(x)

    def step() -> None:
        net.train()
        loss = torch.nn.functional.cross_entropy(training_logits(net, xt), y)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()

    infer_flops, train_flops = count_flops(infer), count_flops(step)
    compile_seconds = 0.0
    if compile:
        compile_unet(net)
        start = time.perf_counter()
        infer()
        step()
        compile_seconds = time.perf_counter() - start
    infer_s, train_s = best_seconds(infer, repeats), best_seconds(step, repeats)
    return {
        "infer_flops": infer_flops,
        "train_flops": train_flops,
        "infer_gflops": infer_flops / infer_s / 1e9,
        "train_gflops": train_flops / train_s / 1e9,
        "infer_seconds_per_slice": infer_s / infer_batch,
        "train_seconds_per_step": train_s,
        "compile_seconds": compile_seconds,
    }


def loss_overhead(
    losses: list[str],
    params: dict[str, dict],
    batch: int,
    size: int,
    classes: int = 4,
    repeats: int = 3,
) -> float:
    """Mean seconds a training step spends in the losses beyond cross-entropy.

    Each loss's forward and backward pass is timed on random logits of the training
    batch's shape; cross-entropy's own time is part of :func:`unet_rates`' step.
    """
    from oodcalib.segmentation.losses import get_loss

    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(batch, classes, size, size, generator=generator)
    target = torch.randint(0, classes, (batch, size, size), generator=generator)

    def cost(loss) -> float:
        def call() -> None:
            x = logits.clone().requires_grad_(True)
            loss(x, target).backward()

        return best_seconds(call, repeats)

    base = cost(torch.nn.functional.cross_entropy)
    extra = [max(0.0, cost(get_loss(name, **params.get(name, {}))) - base) for name in losses]
    return sum(extra) / len(extra)
