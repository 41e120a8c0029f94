"""Named presets: overrides of the :class:`~oodcalib.config.Config` defaults.

The defaults are the paper's protocol (preset ``paper``); ``quick`` is a small protocol
for a laptop, ``smoke`` a seconds-long run for tests. ``losses`` crosses the twelve
train-time losses with UC and TS at the quick protocol trained twice as long (3,000
iterations: at 1,500, 12 of its 36 networks still gained 0.005 to 0.018 validation Dice
over their last 20 % of iterations), ``losses_full`` with every post-hoc calibrator of
the paper. A preset is a plain dict of dotted
keys, applied with :func:`~oodcalib.config.set_value` exactly as ``--set`` overrides are.

This module imports nothing from :mod:`oodcalib.config` (which imports it).
"""

from __future__ import annotations

from typing import Any


def _calib(methods: tuple[str, ...], **values: Any) -> dict[str, Any]:
    """The same calibrator hyperparameters for several methods, as dotted overrides.

    Example:
        >>> _calib(("lts", "proposed"), lr=0.1)
        {'calib.lts.lr': 0.1, 'calib.proposed.lr': 0.1}
    """
    return {f"calib.{m}.{k}": v for m in methods for k, v in values.items()}


#: Presets are overrides of the defaults (which are the paper's protocol).
PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "data.phantom_cases": 20,
        "data.lge_phantom_cases": 3,
        "data.size": 64,
        "data.train_per_fold": 4,
        "data.val_per_fold": 1,
        "data.max_test_cases": 2,
        "model.width": 4,
        "model.depth": 3,
        "model.compile": False,
        "train.iterations": 6,
        "train.batch_size": 4,
        "train.val_every": 3,
        "eval.repeats": 2,
        "eval.num_aug": 2,
        "eval.ablation_num_aug": [1, 2],
        **_calib(("lts", "proposed"), iterations=2, batch_size=2, crop=32, width=4, pool_size=2),
        "calib.proposed.train_copies": 2,
    },
    "quick": {
        "data.lge_phantom_cases": 10,
        "data.size": 160,
        "data.input_size": 96,
        "model.width": 16,
        "model.depth": 4,
        "train.iterations": 1500,
        "train.batch_size": 8,
        "train.val_every": 100,
        "eval.repeats": 2,
        "eval.num_aug": 10,
        "eval.ablation_num_aug": [2, 5, 10],
        **_calib(
            ("lts", "proposed"),
            iterations=150,
            batch_size=4,
            lr=1e-3,
            crop=64,
            width=8,
            pool_size=8,
        ),
        "calib.proposed.width": 4,
        "calib.proposed.train_copies": 6,
    },
    "paper": {},
}
#: The loss grid of the train-time calibration papers, in their order.
GRID_LOSSES = [
    "ce",
    "dice_ce",
    "hl1ace",
    "sl1ace",
    "nacl",
    "svls",
    "mbls",
    "ls",
    "focal",
    "ecp",
    "meep_kl",
    "meep_h",
]
#: Iterations of the loss grid: the quick protocol's cosine schedule, stretched until
#: every (loss, fold) network's validation Dice has stopped rising.
GRID_ITERATIONS = 3000
#: Every loss x 3 folds on a CPU: the quick protocol trained to convergence, UC and TS on top.
PRESETS["losses"] = {
    **PRESETS["quick"],
    "train.iterations": GRID_ITERATIONS,
    "train.losses": GRID_LOSSES,
    "eval.methods": ["uc", "ts"],
}
#: The same grid with every post-hoc calibrator of the paper on top.
PRESETS["losses_full"] = {
    **PRESETS["quick"],
    "train.iterations": GRID_ITERATIONS,
    "train.losses": GRID_LOSSES,
    "eval.methods": ["uc", "ts", "lts", "alea", "proposed"],
}
