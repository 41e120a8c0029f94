"""The findings of the paper's Table 1, checked on a run: held or not, beside the paper.

Each claim is a function of a summary table (``summary.csv``: one row per metric and
method, one column per domain, fractions). The same function is applied to the paper's
published Table 1 (:data:`PAPER_TABLE1`) and to the run, so the "paper" column is
computed, not typed. A claim holds on the run when it meets the bar the paper sets (for
counts, the paper's own count unless the claim names another).

Example:
    >>> table = claims_table(paper_summary())
    >>> table["held"].all(), table.loc[0, "ours"]
    (np.True_, '28 of 28')
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

#: Paper Table 1 (%): {metric: {method: [clean, bias, motion, ghost, spike, art. avg, LGE]}}.
PAPER_TABLE1 = {
    "ece": {
        "uc": [10.29, 13.60, 22.38, 19.68, 39.05, 23.67, 30.29],
        "alea": [7.74, 9.06, 16.47, 16.78, 37.31, 19.90, 28.50],
        "ts": [10.06, 13.31, 22.04, 19.42, 38.87, 23.41, 29.96],
        "lts": [3.22, 5.46, 10.21, 10.61, 31.60, 14.48, 16.78],
        "proposed": [3.12, 4.65, 8.88, 9.23, 28.35, 12.78, 15.37],
    },
    "sce": {
        "uc": [5.27, 6.96, 11.45, 10.09, 19.82, 12.08, 15.58],
        "alea": [5.08, 8.39, 10.11, 10.56, 21.15, 12.55, 16.89],
        "ts": [5.17, 6.84, 11.31, 9.99, 19.76, 11.98, 15.47],
        "lts": [3.63, 4.91, 7.93, 7.80, 17.80, 9.61, 11.52],
        "proposed": [3.38, 4.75, 7.23, 7.14, 16.45, 8.89, 10.77],
    },
    "dice": {"uc": [85.14, 80.29, 69.02, 79.73, 39.02, 67.02, 62.74]},
}
#: Table 1's columns, as domains of a run.
COLUMNS = ["clean", "bias_field", "motion", "ghosting", "spike", "artifact avg", "lge"]
#: The post-hoc calibrators of the paper, UC excluded.
CALIBRATORS = ["alea", "ts", "lts", "proposed"]
PAPER_METHODS = ["uc", *CALIBRATORS]


def paper_summary() -> pd.DataFrame:
    """:data:`PAPER_TABLE1` as a summary table (fractions, like ``summary.csv``)."""
    rows = [
        {"metric": metric, "method": method, **dict(zip(COLUMNS, values, strict=True))}
        for metric, methods in PAPER_TABLE1.items()
        for method, values in methods.items()
    ]
    frame = pd.DataFrame(rows)
    frame[COLUMNS] = frame[COLUMNS] / 100
    return frame


def _values(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    """``{method x column}`` of one metric, restricted to the paper's methods and columns."""
    rows = summary[summary["metric"] == metric].set_index("method")
    return rows.reindex([m for m in PAPER_METHODS if m in rows.index])[COLUMNS]


def _below_uc(summary: pd.DataFrame) -> tuple[str, bool, int]:
    ece = _values(summary, "ece")
    count = int(sum((ece.loc[m] < ece.loc["uc"]).sum() for m in CALIBRATORS))
    return f"{count} of {4 * len(COLUMNS)}", count == 4 * len(COLUMNS), count


def _proposed_vs_lts(column: str) -> Callable[[pd.DataFrame], tuple[str, bool, float]]:
    def claim(summary: pd.DataFrame) -> tuple[str, bool, float]:
        ece = _values(summary, "ece")
        proposed, lts = 100 * ece.loc["proposed", column], 100 * ece.loc["lts", column]
        return f"{proposed:.2f} vs {lts:.2f}", bool(proposed <= lts), proposed - lts

    return claim


def _two_lowest(summary: pd.DataFrame) -> tuple[str, bool, int]:
    ece = _values(summary, "ece")
    count = sum(set(ece[c].nsmallest(2).index) == {"proposed", "lts"} for c in COLUMNS)
    return f"{count} of {len(COLUMNS)}", count >= 5, count


def _order(metric: str) -> Callable[[pd.DataFrame], tuple[str, bool, int]]:
    def claim(summary: pd.DataFrame) -> tuple[str, bool, int]:
        table = _values(summary, metric)
        order = ["proposed", "lts", "alea", "ts", "uc"]
        count = sum(table.loc[order, c].is_monotonic_increasing for c in COLUMNS)
        return f"{count} of {len(COLUMNS)}", count == len(COLUMNS), count

    return claim


def _lowest_sce(summary: pd.DataFrame) -> tuple[str, bool, int]:
    sce = _values(summary, "sce")
    count = sum(sce[c].idxmin() == "proposed" for c in COLUMNS)
    return f"{count} of {len(COLUMNS)}", count == len(COLUMNS), count


def _hardest(summary: pd.DataFrame) -> tuple[str, bool, float]:
    dice = 100 * _values(summary, "dice").loc["uc"]
    shifted = dice.drop(["clean", "artifact avg"])
    lowest = set(shifted.nsmallest(2).index)
    drop = float(dice["clean"] - shifted[["spike", "lge"]].max())
    text = f"spike {dice['spike']:.1f}, LGE {dice['lge']:.1f}, clean {dice['clean']:.1f}"
    return text, lowest == {"spike", "lge"} and drop >= 10, drop


#: (claim, function of a summary -> (text, held, value)), in the order of the table.
CLAIMS: list[tuple[str, Callable[[pd.DataFrame], tuple[str, bool, float]]]] = [
    ("TS, LTS, Alea. and Proposed each below UC on ECE, every column", _below_uc),
    ("Proposed ≤ LTS on artifact-average ECE (%)", _proposed_vs_lts("artifact avg")),
    ("Proposed ≤ LTS on LGE ECE (%)", _proposed_vs_lts("lge")),
    ("Proposed and LTS the two lowest ECE (≥ 5 of 7 columns)", _two_lowest),
    ("ECE order Proposed < LTS < Alea. < TS < UC, every column", _order("ece")),
    ("Proposed the lowest SCE, every column", _lowest_sce),
    ("Spike and LGE the hardest: lowest UC Dice, ≥ 10 points below clean", _hardest),
]


def claims_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Each claim on the paper's Table 1 and on ``summary``: ``claim, paper, ours, held``.

    Args:
        summary: A run's ``summary.csv`` (metrics ece, sce, dice; methods uc, alea, ts,
            lts, proposed; the Table 1 domains).

    Raises:
        KeyError: If the summary lacks a method, metric or domain of Table 1.
    """
    paper = paper_summary()
    rows = []
    for claim, check in CLAIMS:
        paper_text, _, _ = check(paper)
        ours_text, held, _ = check(summary)
        rows.append({"claim": claim, "paper": paper_text, "ours": ours_text, "held": held})
    return pd.DataFrame(rows)


def claims_markdown(table: pd.DataFrame) -> str:
    """The claims table as Markdown (``held`` as yes / no)."""
    lines = ["| claim | paper | ours | held |", "|---|---|---|---|"]
    lines += [
        f"| {r.claim} | {r.paper} | {r.ours} | {'yes' if r.held else '**no**'} |"
        for r in table.itertuples()
    ]
    return "\n".join(lines) + "\n"
