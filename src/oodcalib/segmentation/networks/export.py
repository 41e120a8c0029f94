"""Export a PyTorch network as ``torchscript:FILE`` with its sidecar ``FILE.json``."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import torch

from oodcalib.atomic import write_json
from oodcalib.datasets.case import CLASS_NAMES
from oodcalib.segmentation.networks.declaration import read_declaration
from oodcalib.segmentation.networks.torchscript import REQUIRED


def export_torchscript(
    model: torch.nn.Module,
    path: str | Path,
    *,
    size: int,
    spacing: float,
    input_size: int | None = None,
    normalisation: str = "robust",
    classes: Sequence[str | int] = CLASS_NAMES,
) -> Path:
    """Trace ``model`` (on the CPU) to ``path`` and write the sidecar beside it.

    Tracing records the operations of one forward pass of a zero batch of the input side,
    so the exported module computes what ``model`` computes (bit for bit on the CPU), for
    any batch size and any input side the network itself accepts.

    Args:
        model: Maps ``(N, 1, H, W)`` slices to ``(N, K, H, W)`` logits.
        path: The ``.pt`` file to write; the sidecar is ``path`` with ``.json``.
        size: In-plane crop side (pixels) at ``spacing``.
        spacing: In-plane pixel size (mm) the scans are resampled to.
        input_size: Network input side the crop is resized to (None: ``size``).
        normalisation: Intensity normalisation of the input.
        classes: The class of each output channel
            (:mod:`~oodcalib.segmentation.networks.declaration`).

    Returns:
        The TorchScript file.

    Example:
        >>> import tempfile
        >>> net = torch.nn.Conv2d(1, 4, 1)
        >>> out = export_torchscript(net, Path(tempfile.mkdtemp()) / "net.pt", size=8, spacing=1.5)
        >>> sorted(p.name for p in out.parent.iterdir())
        ['net.json', 'net.pt']
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    side = input_size or size
    was_training = model.training
    model = model.cpu().eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)  # shape checks become constants
        traced = torch.jit.trace(model, torch.zeros(2, 1, side, side), check_trace=False)
    model.train(was_training)
    traced.save(str(path))
    sidecar = path.with_suffix(".json")
    write_json(
        sidecar,
        {
            "size": size,
            "spacing": spacing,
            "input_size": input_size,
            "normalisation": normalisation,
            "classes": list(classes),
        },
    )
    read_declaration(sidecar, REQUIRED)  # what is written reads back
    return path
