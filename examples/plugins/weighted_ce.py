"""Example plugin: a new training loss, class-weighted cross-entropy.

``L = sum_i w_{y_i} (-log p_{y_i}) / sum_i w_{y_i}`` over the pixels ``i`` of the batch.
Use it with::

    oodcalib run --plugin examples/plugins/weighted_ce.py --set train.loss=weighted_ce \
        --set 'train.loss_params.weights=[1.0, 2.0, 2.0, 2.0]'
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from oodcalib.segmentation.losses import LOSSES, LossFn


def weighted_ce(weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0)) -> LossFn:
    """Cross-entropy with one weight per class (background first)."""
    class_weights = torch.as_tensor(list(weights), dtype=torch.float32)

    def loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, target, weight=class_weights.to(logits.dtype))

    return loss


LOSSES["weighted_ce"] = weighted_ce
