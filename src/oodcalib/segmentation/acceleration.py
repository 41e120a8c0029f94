"""GPU speed levers for the segmentation U-Net, and ``--deterministic``.

On CUDA, as the field runs U-Nets: bf16 autocast where the GPU supports it (compute
capability 8.0 and later; fp16 with a gradient scaler on older GPUs), TF32 matrix
products and convolutions, ``cudnn.benchmark`` (the fastest convolution algorithm per
shape) and ``channels_last`` activations (the layout tensor cores read). On the CPU and
on MPS none of them applies by default: the U-Net runs in float32 exactly as before, so CPU
results stay bit-identical to runs made before devices existed. ``channels_last`` can be
asked for on the CPU too (``model.channels_last=true``); at the paper preset's shapes it
made no reliable difference to oneDNN's compiled training step (docs/speed.md), and it
rounds differently from the default layout.

``--deterministic`` asks torch for deterministic algorithms everywhere
(``torch.use_deterministic_algorithms``, ``cudnn.deterministic``, the cuBLAS workspace
setting they need) and turns ``cudnn.benchmark`` off: two runs on the same GPU and software
then agree bit for bit, at some cost in speed, except in the few ops torch has no
deterministic CUDA kernel for (they warn; see ``torch.use_deterministic_algorithms``).
Different GPUs, drivers or library versions still round differently.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch

from oodcalib.segmentation.unet import UNet


@dataclass(frozen=True)
class Placement:
    """The device of a segmentation net and the levers it runs with there.

    Args:
        device: Where the net runs.
        amp: Autocast the U-Net on CUDA (bf16, or fp16 where bf16 is missing); ignored
            elsewhere.
        prefer_channels_last: ``channels_last`` activations: None on CUDA only, True or
            False on any device (``model.channels_last``).

    Example:
        >>> p = Placement()
        >>> p.device, p.autocast_dtype, p.channels_last
        (device(type='cpu'), None, False)
    """

    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    amp: bool = True
    prefer_channels_last: bool | None = None

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        """The autocast dtype of the U-Net (None: float32)."""
        if self.device.type != "cuda" or not self.amp:
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16

    @property
    def grad_scaling(self) -> bool:
        """Whether training scales the loss (fp16 autocast; bf16 needs no scaler)."""
        return self.autocast_dtype == torch.float16

    @property
    def channels_last(self) -> bool:
        """``channels_last`` activations (by default on CUDA, where tensor cores want them)."""
        if self.prefer_channels_last is None:
            return self.device.type == "cuda"
        return self.prefer_channels_last

    def place(self, model: UNet) -> UNet:
        """Move ``model`` to the device and set its levers there; returns ``model``."""
        model.to(self.device)
        if self.channels_last:
            # Module.to takes memory_format (documented), which torch's overloads leave out
            model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
            model.__dict__["channels_last"] = True
        if self.autocast_dtype is not None:
            model.__dict__["autocast_dtype"] = self.autocast_dtype
        return model


def configure_backends(device: torch.device, deterministic: bool = False) -> None:
    """Set torch's process-wide backend flags for a run on ``device``.

    On the CPU without ``deterministic`` nothing changes.
    """
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = not deterministic
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        # warn_only: an op without a deterministic CUDA kernel (torch lists them, e.g. the
        # reduction of a 2D NLL loss) warns instead of stopping the run
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


def reset_peak_memory(device: torch.device) -> None:
    """Start counting the peak GPU memory afresh (nothing off CUDA)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_gib(device: torch.device) -> float | None:
    """Peak GPU memory allocated by torch since :func:`reset_peak_memory` (None off CUDA)."""
    if device.type != "cuda":
        return None
    return round(torch.cuda.max_memory_allocated(device) / 2**30, 3)
