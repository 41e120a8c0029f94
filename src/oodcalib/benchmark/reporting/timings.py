"""Where the time of a run went: seconds per stage and fold, from ``timings.json``.

Stages: ``train`` (segmentation net), ``logits``, ``passes`` (augmented passes),
``fit:<method>``, ``predict:<method>`` (calibrated predictions, excluding the logits and
passes they trigger) and ``metrics`` (scoring). Times are exclusive, so they add up.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from oodcalib.atomic import read_json_object
from oodcalib.benchmark.run_clock import RUN_KEY
from oodcalib.errors import DataError

ORDER = ("train", "logits", "passes", "fit:", "predict:", "metrics")


def _rank(stage: str) -> tuple[int, str]:
    return next((i for i, p in enumerate(ORDER) if stage.startswith(p)), len(ORDER)), stage


def timings_table(run_dir: Path) -> pd.DataFrame:
    """Tidy table of ``run_dir/timings.json``: one row per (fold, stage), in seconds.

    Raises:
        DataError: If the file is missing or unreadable.
    """
    path = Path(run_dir) / "timings.json"
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise DataError(
            path,
            f"cannot read the stage timings ({error}); run `oodcalib run` "
            "on this directory to record them",
        ) from error
    rows = [
        (fold, stage, float(seconds))
        for fold, stages in raw.items()
        if fold != RUN_KEY  # the run's wall time, not a cell (see run_wall_time)
        for stage, seconds in stages.items()
    ]
    table = pd.DataFrame(rows, columns=["fold", "stage", "seconds"])
    return table.iloc[
        sorted(range(len(table)), key=lambda i: (_rank(table.stage[i]), table.fold[i]))
    ]


def run_wall_time(run_dir: Path) -> tuple[float, int] | None:
    """The run's wall time in seconds and the number of ``oodcalib run`` processes it took.

    ``None`` for a run recorded before the wall time was kept (``timings.json`` without
    its ``"run"`` entry, :mod:`~oodcalib.benchmark.run_clock`).
    """
    record = read_json_object(Path(run_dir) / "timings.json").get(RUN_KEY)
    if not isinstance(record, dict) or "wall" not in record:
        return None
    return float(record["wall"]), int(record.get("processes", 1))


def wall_time_sentence(run_dir: Path) -> str | None:
    """The run's wall time in words, or ``None`` (see :func:`run_wall_time`).

    For example ``"247.4 min over 2 processes of oodcalib run"``: the one wording of
    it, for ``oodcalib run`` / ``report`` and report.html.
    """
    wall = run_wall_time(run_dir)
    if wall is None:
        return None
    seconds, processes = wall
    plural = "process" if processes == 1 else "processes"
    return f"{seconds / 60:.1f} min over {processes} {plural} of oodcalib run"


def timings_minutes(table: pd.DataFrame) -> pd.DataFrame:
    """Minutes per stage (rows, a ``stage`` column) and fold (columns), with totals.

    In a loss grid (cells ``<loss>/fold<k>``) the columns are the losses, summed over folds.

    Example:
        >>> t = pd.DataFrame({"fold": ["a/fold0", "a/fold1"], "stage": "train",
        ...                   "seconds": [60.0, 120.0]})
        >>> timings_minutes(t).to_dict("records")
        [{'stage': 'train', 'a': 3.0, 'total': 3.0}, {'stage': 'total', 'a': 3.0, 'total': 3.0}]
    """
    if table["fold"].str.contains("/").any():  # a loss grid: one column per loss
        table = table.assign(fold=table["fold"].str.split("/").str[0])
    wide = (
        table.pivot_table(
            index="stage",
            columns="fold",
            values="seconds",
            aggfunc="sum",
            fill_value=0.0,
            sort=False,
        )
        / 60
    )
    wide = wide.loc[sorted(wide.index, key=_rank)]
    wide["total"] = wide.sum(axis=1)
    wide.loc["total"] = wide.sum(axis=0)
    wide.columns.name = None
    return wide.reset_index()


def format_timings(table: pd.DataFrame) -> str:
    """Minutes per stage (rows) and fold (columns), with totals, as fixed-width text.

    Example:
        >>> t = pd.DataFrame({"fold": ["fold0", "fold0", "fold1"], "stage": ["train", "metrics",
        ...                   "train"], "seconds": [120.0, 30.0, 60.0]})
        >>> print(format_timings(t))
          stage  fold0  fold1  total
          train   2.00   1.00   3.00
        metrics   0.50   0.00   0.50
          total   2.50   1.00   3.50
    """
    return timings_minutes(table).to_string(index=False, float_format=lambda v: f"{v:6.2f}")
