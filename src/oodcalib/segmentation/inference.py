"""Running a frozen segmentation network over a stack of slices, and reloading it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from oodcalib.segmentation.acceleration import Placement
from oodcalib.segmentation.compilation import compile_unet
from oodcalib.segmentation.device import model_device, to_device
from oodcalib.segmentation.unet import UNet


def forward_in_batches(
    fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, batch_size: int = 8
) -> torch.Tensor:
    """``fn`` applied to ``x`` in batches of ``batch_size`` along the first axis, concatenated.

    Batches of about 8 slices keep a U-Net's activations in cache on a CPU (8 slices ran
    1.6x faster per slice than 32 at 160 px).

    Example:
        >>> forward_in_batches(lambda t: 2 * t, torch.arange(5.0), batch_size=2).tolist()
        [0.0, 2.0, 4.0, 6.0, 8.0]
    """
    return torch.cat([fn(x[i : i + batch_size]) for i in range(0, x.shape[0], batch_size)])


@torch.no_grad()
def predict_logits(model: torch.nn.Module, image: np.ndarray, batch_size: int = 8) -> np.ndarray:
    """Slice-wise logits of a ``(Z, H, W)`` normalised stack, on the model's device.

    Args:
        model: A network mapping ``(N, 1, H, W)`` to ``(N, C, H, W)``.
        image: The normalised stack.
        batch_size: Slices per forward pass.

    Returns:
        ``(Z, C, H, W)`` float32 logits (CPU numpy).

    Example:
        >>> predict_logits(UNet(width=2, depth=2).eval(), np.zeros((3, 8, 8), np.float32)).shape
        (3, 4, 8, 8)
    """
    was_training = model.training
    model.eval()
    x = torch.as_tensor(np.ascontiguousarray(image), dtype=torch.float32, device="cpu")
    logits = forward_in_batches(model, to_device(x.unsqueeze(1), model_device(model)), batch_size)
    model.train(was_training)
    return logits.cpu().numpy()


def load_model(path, placement: Placement | None = None, compile: bool = False) -> UNet:
    """Rebuild a :class:`UNet` from a checkpoint written by the training stage.

    Args:
        path: The checkpoint.
        placement: Device of the parameters and the levers there (default: the CPU).
        compile: Compile its forward pass
            (:func:`~oodcalib.segmentation.compilation.compile_unet`).
    """
    state = torch.load(path, map_location="cpu", weights_only=False)
    with torch.device("cpu"):
        model = UNet(**state["architecture"])
    model.load_state_dict(state["model"])
    (placement or Placement()).place(model)
    if compile:
        compile_unet(model)
    return model.eval()
