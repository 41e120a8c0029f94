"""``torchscript:FILE``: a scripted or traced network with its sidecar ``FILE.json``.

The module maps a batch of preprocessed slices ``(N, 1, H, W)`` to logits
``(N, K, H, W)``; the sidecar (:mod:`~oodcalib.segmentation.networks.declaration`)
declares the grid and intensities it expects and the class of each of the K channels.
Export one with ``torch.jit.script(net)`` or ``torch.jit.trace(net, example)`` and
``.save(FILE)`` (``docs/your-own-network.md``).
"""

from __future__ import annotations

from pathlib import Path

import torch

from oodcalib.errors import DataError
from oodcalib.segmentation.networks.base import ForeignNetwork, Grid
from oodcalib.segmentation.networks.class_map import ClassMap
from oodcalib.segmentation.networks.declaration import Declaration, read_declaration

#: Sidecar keys a TorchScript network must declare (``input_size`` may be left out).
REQUIRED = ("size", "spacing", "normalisation", "classes")


class TorchScriptNetwork(ForeignNetwork):
    """A TorchScript file (one fold)."""

    kind = "torchscript"

    @property
    def sidecar(self) -> Path:
        """``FILE`` with the suffix ``.json``."""
        return Path(self.spec).with_suffix(".json")

    def declaration(self) -> Declaration:
        """The sidecar, every key but ``input_size`` required."""
        return read_declaration(self.sidecar, REQUIRED)

    def module(self, grid: Grid) -> torch.nn.Module:
        """The scripted module wrapped in its class map, checked on one zero batch."""
        path = Path(self.spec)
        if not path.is_file():
            raise DataError(path, "TorchScript file not found")
        try:
            net = torch.jit.load(str(path), map_location="cpu")
        except (RuntimeError, ValueError, OSError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise DataError(path, f"not a TorchScript module ({first})") from None
        declaration = self.declaration()
        model = ClassMap(net, declaration.classes, str(path)).eval()
        side = grid.input_size or grid.size
        with torch.no_grad():
            model(torch.zeros(2, 1, side, side))
        return model
