"""Convergence of a run's networks: the best validation Dice of the last 20 % against the
best before, on hand-computed logs and on the files of a run directory."""

import math

import pandas as pd
import pytest

from oodcalib.benchmark.reporting.convergence import (
    convergence_markdown,
    convergence_table,
    dice_gain,
)


def _log(dice, step=100):
    return pd.DataFrame(
        {"iteration": [step * (i + 1) for i in range(len(dice))], "train_loss": 0.0,
         "val_dice": dice}
    )  # fmt: skip


@pytest.mark.parametrize(
    ("dice", "gain"),
    [
        ([0.5, 0.6, 0.7, 0.8, 0.9], 0.1),  # still rising: tail (500) over best before (0.8)
        ([0.5, 0.8, 0.7, 0.79, 0.78], -0.02),  # the best came early
        ([0.1] * 9 + [0.102], 0.002),  # 10 points: tail = iterations 900, 1000
        ([0.1] * 8 + [0.2, 0.1], 0.1),
    ],
)
def test_gain_is_best_of_tail_minus_best_before(dice, gain):
    assert dice_gain(_log(dice)) == pytest.approx(gain)


def test_gain_without_a_tail_is_nan_and_bad_tail_is_refused():
    assert math.isnan(dice_gain(_log([0.5])))
    with pytest.raises(ValueError, match="tail"):
        dice_gain(_log([0.5, 0.6]), tail=1.0)


def test_table_reads_single_loss_and_grid_runs(tmp_path):
    for directory, dice in [
        ("fold0", [0.5, 0.6, 0.7, 0.8, 0.9]),
        ("losses/nacl/fold1", [0.5, 0.8, 0.8, 0.8, 0.801]),
    ]:
        (tmp_path / directory).mkdir(parents=True)
        _log(dice).to_csv(tmp_path / directory / "train_log.csv", index=False)
    table = convergence_table(tmp_path).set_index("fold")
    assert table.loc[0, "loss"] == "" and not table.loc[0, "converged"]
    assert table.loc[1, "loss"] == "nacl" and table.loc[1, "converged"]
    assert table.loc[1, "iterations"] == 500 and table.loc[1, "best_val_dice"] == 0.801
    text = convergence_markdown(convergence_table(tmp_path))
    assert "1 of 2 networks converged" in text and "**no**" in text
