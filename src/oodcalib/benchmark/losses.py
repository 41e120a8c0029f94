"""Train-time losses by name: the registry of :mod:`oodcalib.benchmark.segmentation.losses`.

A thin re-export, so that ``from oodcalib.benchmark.losses import get_loss, LOSSES`` works;
the losses themselves live in ``oodcalib/benchmark/segmentation/losses/``.

Example:
    >>> loss = get_loss("nacl", alpha=0.1, prior="gaussian")
    >>> {"hl1ace", "sl1ace", "nacl", "svls", "mbls", "meep_kl"} <= set(LOSSES)
    True
"""

from oodcalib.benchmark.segmentation.losses import (
    LOSSES,
    LossFn,
    get_loss,
    loss_hyperparameter_names,
    register_loss,
)

__all__ = ["LOSSES", "LossFn", "get_loss", "loss_hyperparameter_names", "register_loss"]
