"""Running a frozen segmentation network over a stack of slices, and reloading it."""

from __future__ import annotations

import numpy as np
import torch

from oodcalib.segmentation.acceleration import Placement
from oodcalib.segmentation.batching import forward_in_batches
from oodcalib.segmentation.compilation import compile_unet
from oodcalib.segmentation.device import model_device, to_device
from oodcalib.segmentation.unet import UNet


@torch.no_grad()
def predict_logits(
    model: torch.nn.Module, image: np.ndarray, batch_size: int | None = None
) -> np.ndarray:
    """Slice-wise logits of a ``(Z, H, W)`` normalised stack, on the model's device.

    Args:
        model: A network mapping ``(N, 1, H, W)`` to ``(N, C, H, W)``.
        image: The normalised stack.
        batch_size: Slices per forward pass (default :func:`slices_per_batch`).

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
