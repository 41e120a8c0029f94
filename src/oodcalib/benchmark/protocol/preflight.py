"""Checks of a run that need the package's code, not only the config: before any work.

:func:`~oodcalib.config.validate_config` checks every key that can be checked alone;
:func:`check_names` then checks the names against the registries, each calibrator's and
loss's hyperparameters (:mod:`~oodcalib.benchmark.protocol.hyperparameters`), the test
domains and whether the segmentation network fits in the machine's memory at all
(:func:`check_model_size`).
"""

from __future__ import annotations

import os

import torch

from oodcalib.benchmark.protocol.domains import check_domains
from oodcalib.benchmark.protocol.hyperparameters import check_hyperparameters
from oodcalib.config import Config
from oodcalib.errors import OodcalibError, lookup
from oodcalib.plugins import load_plugins
from oodcalib.segmentation.unet import UNet

#: Bytes per trained parameter: float32 weight, gradient and Adam's two moments.
BYTES_PER_PARAMETER = 4 * 4


def unet_parameters(width: int, depth: int) -> int:
    """Parameters of the run's U-Net, counted on the meta device (nothing is allocated).

    Example:
        >>> unet_parameters(4, 3)
        7572
    """
    with torch.device("meta"):
        net = UNet(1, 4, width=width, depth=depth)
    return sum(p.numel() for p in net.parameters())


def machine_memory() -> int | None:
    """Bytes of physical memory of this machine (None where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return None


def check_model_size(config: Config, memory: int | None = None) -> None:
    """Refuse a U-Net whose weights and optimiser state alone exceed the machine's memory.

    Args:
        config: The run's configuration (``model.width``, ``model.depth``).
        memory: Bytes available (default: :func:`machine_memory`).

    Raises:
        OodcalibError: Naming ``model.width`` and the memory it would take.

    Example:
        >>> from oodcalib.config import build_config
        >>> check_model_size(build_config("smoke", ["model.width=4096"]), memory=2**34)
        Traceback (most recent call last):
        ...
        oodcalib.errors.OodcalibError: model.width=4096: a U-Net of depth 3 this wide has \
7.6e+09 parameters, 113.5 GiB for its weights, gradients and Adam state, more than this \
machine's 16.0 GiB of memory; lower model.width (the paper's is 32)
    """
    memory = machine_memory() if memory is None else memory
    m = config.model
    count = unet_parameters(m.width, m.depth)
    needed = count * BYTES_PER_PARAMETER
    if memory is not None and needed > memory:
        raise OodcalibError(
            f"model.width={m.width}: a U-Net of depth {m.depth} this wide has {count:.2g} "
            f"parameters, {needed / 2**30:.1f} GiB for its weights, gradients and Adam "
            f"state, more than this machine's {memory / 2**30:.1f} GiB of memory; lower "
            "model.width (the paper's is 32)"
        )


def check_names(config: Config) -> None:
    """Fail fast, before any work, on names no registry holds (the error lists valid ones).

    Plugins are imported first, so the names they register are known.
    """
    from oodcalib.baselines import CALIBRATORS
    from oodcalib.corruptions import CORRUPTIONS
    from oodcalib.datasets import SOURCES
    from oodcalib.datasets.intensity import NORMALISATIONS
    from oodcalib.segmentation.losses import LOSSES
    from oodcalib.segmentation.networks import NETWORKS, split_model

    load_plugins(config.plugins)
    lookup(LOSSES, config.train.loss, "loss")
    for loss in config.train.losses:
        lookup(LOSSES, loss, "loss")
    lookup(SOURCES, config.data.source, "data source")
    for method in config.eval.methods:
        lookup(CALIBRATORS, method, "method")
    for name in config.eval.corruptions:
        lookup(CORRUPTIONS, name, "corruption")
    check_domains(config)
    check_hyperparameters(config)
    check_model_size(config)
    lookup(NORMALISATIONS, config.data.normalisation, "normalisation")
    for model in config.model.networks:
        lookup(NETWORKS, split_model(model)[0], "model kind")
