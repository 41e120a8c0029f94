"""Networks oodcalib did not train (``--model KIND:SPEC``), by kind.

The protocol (:mod:`oodcalib.benchmark.protocol.foreign_network`) puts them where the
built-in U-Net would be: no training, the same calibrators, domains and metrics.

- :mod:`~oodcalib.segmentation.networks.base`: the interface of a kind;
- :mod:`~oodcalib.segmentation.networks.declaration`: the sidecar JSON (grid, classes);
- :mod:`~oodcalib.segmentation.networks.class_map`: channels to background/RV/MYO/LV;
- :mod:`~oodcalib.segmentation.networks.torchscript`, ``nnunet``, ``predictions``: the
  kinds; :mod:`~oodcalib.segmentation.networks.probability_maps`: saved maps.

Add a kind from a plugin with ``NETWORKS["mine"] = MyNetwork`` (a
:class:`ForeignNetwork` subclass); ``--model mine:SPEC`` then uses it.
"""

from __future__ import annotations

from oodcalib.errors import OodcalibError, lookup
from oodcalib.segmentation.networks.base import ForeignNetwork, Grid
from oodcalib.segmentation.networks.declaration import Declaration, read_declaration
from oodcalib.segmentation.networks.nnunet import NnUNetNetwork
from oodcalib.segmentation.networks.predictions import SavedPredictions
from oodcalib.segmentation.networks.torchscript import TorchScriptNetwork

#: Registry: model kind -> class.
NETWORKS: dict[str, type[ForeignNetwork]] = {
    "torchscript": TorchScriptNetwork,
    "nnunet": NnUNetNetwork,
    "predictions": SavedPredictions,
}


def split_model(text: str) -> tuple[str, str]:
    """``KIND`` and ``SPEC`` of ``KIND:SPEC``.

    Example:
        >>> split_model("torchscript:nets/fold0.pt")
        ('torchscript', 'nets/fold0.pt')
    """
    kind, sep, spec = text.partition(":")
    if not sep or not kind or not spec:
        raise OodcalibError(
            f"--model {text!r} must look like KIND:SPEC; kinds: {', '.join(NETWORKS)}"
        )
    return kind.strip().lower(), spec


def get_network(text: str) -> ForeignNetwork:
    """The network of a recorded ``KIND:SPEC``.

    Raises:
        UnknownNameError: An unknown kind (the message lists the registered ones).
    """
    kind, spec = split_model(text)
    cls = NETWORKS.get(kind) or lookup(NETWORKS, kind, "model kind")
    return cls(spec)


def resolve_model(text: str) -> str:
    """``KIND:SPEC`` as a run records it: the kind checked, its paths absolute."""
    kind, spec = split_model(text)
    return f"{kind}:{lookup(NETWORKS, kind, 'model kind').resolve(spec)}"


__all__ = [
    "NETWORKS",
    "Declaration",
    "ForeignNetwork",
    "Grid",
    "get_network",
    "read_declaration",
    "resolve_model",
    "split_model",
]
