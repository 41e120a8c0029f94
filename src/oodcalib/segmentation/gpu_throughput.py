"""A GPU's matmul peaks and the U-Net's rates on it, as the benchmark runs it there.

The GPU twin of :mod:`~oodcalib.segmentation.throughput` (which measures the CPU and is
left as it is): every timed call is followed by ``torch.cuda.synchronize``, the U-Net is
placed as a run places it (:class:`~oodcalib.segmentation.acceleration.Placement`: bf16
autocast, TF32, ``channels_last``, ``cudnn.benchmark``) and the batches start on the
device, so the rates are those of the network alone (the CPU-side augmentation and the
transfers come on top).
"""

from __future__ import annotations

import torch

from oodcalib.segmentation.acceleration import Placement, configure_backends
from oodcalib.segmentation.compilation import compile_unet
from oodcalib.segmentation.throughput import INFER_BATCH, best_seconds, count_flops
from oodcalib.segmentation.unet import UNet


def _synced(fn, device: torch.device):
    def call() -> None:
        fn()
        torch.cuda.synchronize(device)

    return call


def gpu_matmul_rates(device: torch.device, size: int = 8192, repeats: int = 5) -> dict[str, float]:
    """GFLOP/s of a ``size x size`` product (``2 size^3`` FLOPs) in fp32, TF32 and bf16."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    flops = 2 * size**3
    rates = {}
    previous = torch.backends.cuda.matmul.allow_tf32
    try:
        for name, tf32, dtype in (
            ("fp32", False, torch.float32),
            ("tf32", True, torch.float32),
            ("bf16", False, torch.bfloat16),
        ):
            torch.backends.cuda.matmul.allow_tf32 = tf32
            x, y = a.to(dtype), b.to(dtype)
            product = _synced(lambda x=x, y=y: x @ y, device)
            rates[name] = flops / best_seconds(product, repeats) / 1e9
    finally:
        torch.backends.cuda.matmul.allow_tf32 = previous
    return rates


def gpu_unet_rates(
    width: int,
    depth: int,
    size: int,
    batch: int,
    placement: Placement,
    repeats: int = 3,
    compile: bool = False,
) -> dict[str, float]:
    """:func:`~oodcalib.segmentation.throughput.unet_rates` on ``placement``'s GPU.

    Returns:
        The same keys. FLOPs are counted on the eager float32 network on the CPU;
        ``compile_seconds`` is the time of the first calls (compiling, cuDNN tuning).
    """
    device = placement.device
    configure_backends(device)
    torch.manual_seed(0)
    with torch.device("cpu"):
        net = UNet(1, 4, width=width, depth=depth)
    cpu_x = torch.rand(INFER_BATCH, 1, size, size)
    counted = {
        "infer_flops": count_flops(lambda: net.eval()(cpu_x)),
        "train_flops": _train_flops(net, batch, size),
    }
    placement.place(net)
    if compile:
        compile_unet(net)
    x = torch.rand(INFER_BATCH, 1, size, size).to(device)
    xt, y = torch.rand(batch, 1, size, size).to(device), torch.randint(0, 4, (batch, size, size))
    y = y.to(device)
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-4)
    scaler = torch.amp.GradScaler("cuda") if placement.grad_scaling else None

    def infer() -> None:
        with torch.no_grad():
            net.eval()(x)

    def step() -> None:
        net.train()
        loss = torch.nn.functional.cross_entropy(net(xt), y)
        optimiser.zero_grad(set_to_none=True)
        if scaler is None:
            loss.backward()
            optimiser.step()
            return
        scaler.scale(loss).backward()
        scaler.step(optimiser)
        scaler.update()

    infer_fn, step_fn = _synced(infer, device), _synced(step, device)
    first = best_seconds(lambda: (infer_fn(), step_fn()), 1)  # compiles, tunes cuDNN
    infer_s, train_s = best_seconds(infer_fn, repeats), best_seconds(step_fn, repeats)
    return {
        **counted,
        "infer_gflops": counted["infer_flops"] / infer_s / 1e9,
        "train_gflops": counted["train_flops"] / train_s / 1e9,
        "infer_seconds_per_slice": infer_s / INFER_BATCH,
        "train_seconds_per_step": train_s,
        "compile_seconds": first if compile else 0.0,
    }


def _train_flops(net: UNet, batch: int, size: int) -> int:
    """FLOPs of one training step of ``net`` (forward, backward) on the CPU."""
    x, y = torch.rand(batch, 1, size, size), torch.randint(0, 4, (batch, size, size))

    def step() -> None:
        torch.nn.functional.cross_entropy(net.train()(x), y).backward()
        net.zero_grad(set_to_none=True)

    return count_flops(step)


def gpu_loss_overhead(
    losses: list[str], params: dict[str, dict], batch: int, size: int, device: torch.device
) -> float:
    """:func:`~oodcalib.segmentation.throughput.loss_overhead` on the GPU."""
    from oodcalib.segmentation.losses import get_loss

    generator = torch.Generator(device="cpu").manual_seed(0)
    logits = torch.randn(batch, 4, size, size, generator=generator).to(device)
    target = torch.randint(0, 4, (batch, size, size), generator=generator).to(device)

    def cost(loss) -> float:
        def call() -> None:
            loss(logits.clone().requires_grad_(True), target).backward()

        return best_seconds(_synced(call, device), 3)

    base = cost(torch.nn.functional.cross_entropy)
    extra = [max(0.0, cost(get_loss(name, **params.get(name, {}))) - base) for name in losses]
    return sum(extra) / len(extra)
