"""The temperature TS fitted on each network of a run: over- or underconfidence at a glance.

Temperature scaling divides a network's logits by one ``T`` fitted on the fold's
calibration scans (least NLL). ``T > 1`` softens the probabilities, so the network was
overconfident there; ``T < 1`` sharpens them, so it was underconfident. The train-time
losses that fight overconfidence (LS, FL, NACL, MbLS, MEEP) give ``T < 1`` on a network
that was not overconfident to begin with. The fits are read from each cell's
``per_case/ts_r<k>.json`` (key ``fitted.temperature_``).

Example:
    >>> table = pd.DataFrame({"loss": ["ce", "ce", "ls"], "fold": [0, 1, 0],
    ...                       "repeat": 0, "temperature": [1.2, 1.4, 0.6]})
    >>> temperature_summary(table).to_dict("records")[0]
    {'loss': 'ce', 'folds': 2, 'mean': 1.3, 'min': 1.2, 'max': 1.4, 'reading': 'overconfident'}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from oodcalib.benchmark.layout import fold_files
from oodcalib.errors import DataError

#: Band of temperatures read as calibrated: the fit moved the logits by under 10 %.
CALIBRATED = (0.9, 1.1)


def temperature_table(run_dir: Path) -> pd.DataFrame:
    """One row per fitted TS of a run.

    Returns:
        Columns ``loss`` (empty for a single-loss run), ``fold``, ``repeat``,
        ``temperature``.

    Raises:
        DataError: A ``ts_r<k>.json`` that is not JSON or has no fitted temperature.
    """
    rows = []
    for path in fold_files(Path(run_dir), "per_case/ts_r*.json"):
        try:
            temperature = float(json.loads(path.read_text())["fitted"]["temperature_"])
        except (ValueError, KeyError, TypeError) as error:
            raise DataError(path, f"no fitted temperature in it ({error!r})") from error
        cell = path.parent.parent
        rows.append(
            {
                "loss": cell.parent.name if cell.parent.parent.name == "losses" else "",
                "fold": int(cell.name.removeprefix("fold")),
                "repeat": int(path.stem.rsplit("_r", 1)[1]),
                "temperature": temperature,
            }
        )
    return pd.DataFrame(rows, columns=["loss", "fold", "repeat", "temperature"])


def _reading(low: float, high: float) -> str:
    if high < CALIBRATED[0]:
        return "underconfident"
    if low > CALIBRATED[1]:
        return "overconfident"
    if low >= CALIBRATED[0] and high <= CALIBRATED[1]:
        return "calibrated"
    return "mixed"


def temperature_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per loss, from the most overconfident to the most underconfident: the fold temperatures.

    Columns ``folds``, ``mean``, ``min``, ``max`` and ``reading``: ``overconfident``
    (every fold's T above 1.1), ``underconfident`` (every T below 0.9), ``calibrated``
    (all within) or ``mixed``. The repeats of a fold fit the same scans, so each fold
    counts once (its mean).
    """
    per_fold = table.groupby(["loss", "fold"], sort=False)["temperature"].mean().reset_index()
    rows = []
    for loss, group in per_fold.groupby("loss", sort=False):
        values = group["temperature"]
        rows.append(
            {
                "loss": loss,
                "folds": len(values),
                "mean": round(float(values.mean()), 3),
                "min": round(float(values.min()), 3),
                "max": round(float(values.max()), 3),
                "reading": _reading(float(values.min()), float(values.max())),
            }
        )
    summary = pd.DataFrame(rows, columns=["loss", "folds", "mean", "min", "max", "reading"])
    return summary.sort_values("mean", ascending=False, kind="stable", ignore_index=True)


def temperature_markdown(summary: pd.DataFrame, names: Mapping[str, str] | None = None) -> str:
    """The summary as a Markdown table; ``names`` maps a loss to its display name."""
    lines = ["| loss | folds | T mean | T min | T max | network before TS |", "|---" * 6 + "|"]
    for row in summary.itertuples(index=False):
        name = (names or {}).get(row.loss, row.loss) or "(the run's loss)"
        lines.append(
            f"| {name} | {row.folds} | {row.mean:.2f} | {row.min:.2f} | {row.max:.2f} "
            f"| {row.reading} |"
        )
    low, high = CALIBRATED
    lines += [
        "",
        f"T: the temperature TS fitted on each fold's calibration scans. T > {high} in every "
        f"fold: the network was overconfident; T < {low}: underconfident.",
    ]
    return "\n".join(lines) + "\n"


__all__ = ["temperature_markdown", "temperature_summary", "temperature_table"]
