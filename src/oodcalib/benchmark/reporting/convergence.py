"""Has each network of a run stopped improving? Its validation Dice over the last iterations.

A network has converged, in the sense the loss grid asks for, when its validation Dice no
longer rises: the best validation Dice reached in the last ``tail`` (20 %) of its
iterations exceeds the best reached before by less than ``tolerance`` (0.005):

    gain = max_{i > (1 - tail) T} dice_i - max_{i <= (1 - tail) T} dice_i,
    converged = gain < tolerance,

where ``T`` is the last logged iteration. The best is compared with the best because the
protocol keeps the best checkpoint by validation Dice, so a later dip costs nothing; a
negative gain means the best net came earlier. It reads each cell's ``train_log.csv``
(``iteration, train_loss, val_dice``, one row per validation).

Example:
    >>> log = pd.DataFrame({"iteration": [100, 200, 300, 400, 500],
    ...                     "val_dice": [0.50, 0.70, 0.78, 0.80, 0.801]})
    >>> round(dice_gain(log), 3)
    0.001
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from oodcalib.benchmark.layout import fold_files

#: Share of a network's iterations that must not raise its best validation Dice.
TAIL = 0.2
#: Largest gain of validation Dice over the tail that still counts as converged.
TOLERANCE = 0.005


def dice_gain(log: pd.DataFrame, tail: float = TAIL) -> float:
    """Best validation Dice of the last ``tail`` of the iterations minus the best before.

    Args:
        log: A ``train_log.csv`` table with ``iteration`` and ``val_dice`` columns.
        tail: Share of the last logged iteration that forms the tail, in (0, 1).

    Returns:
        The gain (NaN when either part has no validation).
    """
    if not 0 < tail < 1:
        raise ValueError(f"tail must lie in (0, 1), got {tail}")
    cut = (1 - tail) * float(log["iteration"].max())
    late = log.loc[log["iteration"] > cut, "val_dice"]
    early = log.loc[log["iteration"] <= cut, "val_dice"]
    if late.empty or early.empty:
        return float("nan")
    return float(late.max() - early.max())


def convergence_table(
    run_dir: Path, tail: float = TAIL, tolerance: float = TOLERANCE
) -> pd.DataFrame:
    """One row per trained network of a run: its loss, fold, iterations, Dice and gain.

    Args:
        run_dir: A run directory (single loss or loss grid).
        tail: See :func:`dice_gain`.
        tolerance: Largest gain that counts as converged.

    Returns:
        Columns ``loss`` (empty for a single-loss run), ``fold``, ``iterations``,
        ``best_val_dice``, ``final_val_dice``, ``gain``, ``converged``.
    """
    rows = []
    for path in fold_files(Path(run_dir), "train_log.csv"):
        log = pd.read_csv(path)
        if log.empty:
            continue
        cell = path.parent
        loss = cell.parent.name if cell.parent.parent.name == "losses" else ""
        gain = dice_gain(log, tail)
        rows.append(
            {
                "loss": loss,
                "fold": int(cell.name.removeprefix("fold")),
                "iterations": int(log["iteration"].max()),
                "best_val_dice": float(log["val_dice"].max()),
                "final_val_dice": float(log["val_dice"].iloc[-1]),
                "gain": gain,
                "converged": bool(gain < tolerance),
            }
        )
    columns = ["loss", "fold", "iterations", "best_val_dice", "final_val_dice", "gain"]
    return pd.DataFrame(rows, columns=[*columns, "converged"])


def convergence_markdown(table: pd.DataFrame, tolerance: float = TOLERANCE) -> str:
    """The table as Markdown, with a closing line counting the converged networks."""
    shown = table.copy()
    for column in ["best_val_dice", "final_val_dice", "gain"]:
        shown[column] = shown[column].map("{:.3f}".format)
    shown["converged"] = shown["converged"].map({True: "yes", False: "**no**"})
    if not shown["loss"].astype(bool).any():
        shown = shown.drop(columns="loss")
    lines = [
        "| " + " | ".join(shown.columns) + " |",
        "|" + "---|" * len(shown.columns),
        *("| " + " | ".join(map(str, row)) + " |" for row in shown.itertuples(index=False)),
        "",
        f"{int(table['converged'].sum())} of {len(table)} networks converged (best validation "
        f"Dice of the last {TAIL:.0%} of the iterations less than {tolerance} above the best "
        "before).",
    ]
    return "\n".join(lines) + "\n"
