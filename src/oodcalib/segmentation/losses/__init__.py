"""Training losses for the segmentation network, chosen by name from a registry.

A loss is any callable ``loss(logits (N, C, H, W), target (N, H, W) long) -> scalar``,
built by ``get_loss(name, **hyperparameters)``. Register a new one with
:func:`register_loss` (see :mod:`.registry`). Each module holds one loss or a small group,
with its formula; the definitions follow the authors' code as REFERENCE.md section 2 states
them (notation: ``p = softmax(l)``, ``y`` one-hot, "mean" over every element):

======== ==================================================== ==========================
name     objective                                            defaults
======== ==================================================== ==========================
ce       ``mean −log p_y``                                    none
dice_ce  ``CE + soft Dice`` over the foreground (baseline)    weights 1, 1
hl1ace   ``w_ace·ACE_hard + w_dice·Dice + w_ce·CE``           20 bins, 0.33 each
sl1ace   ``w_ace·ACE_soft + w_dice·Dice + w_ce·CE``           20 bins, empty 0.01, 0.33
nacl     ``CE + α · mean |τ − l|``                            α 0.1, 3x3, prior mean
svls     ``mean_{b,h,w} −Σ_k ỹ_k log p_k``                    σ 1
mbls     ``CE + α · mean relu(max_j l_j − l_k − m)``          m 5, α 0.1
ls       ``mean[(1−α)(−log p_y) + α·mean_k(−log p_k)]``       α 0.1
focal    ``mean −(1 − p_y)^γ log p_y``                        γ 3
ecp      ``CE − β · mean(−p log p)``                          β 0.1
meep_kl  ``CE + λ · mean_{errors} mean_k(−log p_k)``          λ 0.3
meep_h   ``CE − λ · mean_{errors}(−Σ_k p_k log p_k)``         λ 0.3
======== ==================================================== ==========================

Modules: :mod:`.registry` (``LOSSES``, ``get_loss``, shared checks), :mod:`.basic` (``ce``,
``dice_ce``), :mod:`.ace` (``hl1ace``, ``sl1ace``), :mod:`.nacl` (``nacl``, ``svls`` and
their spatial priors), :mod:`.margin` (``mbls``), :mod:`.smoothing` (``ls``, ``focal``,
``ecp``), :mod:`.meep` (``meep_kl``, ``meep_h``).

Every loss works in the logits' dtype (float32 or float64), is finite with finite
gradients at saturated logits (±50), with a class absent from the batch and with no
misclassified pixel, and keeps its hyperparameters as factory keywords, so
``loss_hyperparameter_names`` (and ``--set train.loss_params.<name>=...``) list them.

Example:
    >>> list(LOSSES)[:4]
    ['ce', 'dice_ce', 'hl1ace', 'sl1ace']
"""

# imported in the order of the table above, which is the registry's (and the grid's) order
from oodcalib.segmentation.losses import basic  # isort: skip
from oodcalib.segmentation.losses import ace, nacl  # isort: skip
from oodcalib.segmentation.losses import margin, smoothing  # isort: skip
from oodcalib.segmentation.losses import meep  # isort: skip
from oodcalib.plugins import declare_registry
from oodcalib.segmentation.losses.basic import soft_dice_loss
from oodcalib.segmentation.losses.registry import (
    LOSS_NAMES,
    LOSSES,
    LossFn,
    get_loss,
    loss_hyperparameter_names,
    register_loss,
)

declare_registry(
    "LOSSES", LOSSES, LOSS_NAMES
)  # the built-ins are in: a plugin replaces by OVERRIDE

__all__ = [
    "LOSSES",
    "LOSS_NAMES",
    "LossFn",
    "ace",
    "basic",
    "get_loss",
    "loss_hyperparameter_names",
    "margin",
    "meep",
    "nacl",
    "register_loss",
    "smoothing",
    "soft_dice_loss",
]
