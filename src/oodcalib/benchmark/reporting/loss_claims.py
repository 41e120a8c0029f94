"""The loss papers' in-domain findings (ACE, NACL, MEEP), checked on a loss-grid run.

Each claim is a function of one accessor, ``values(metric) -> Series`` (percent per
loss, UC, clean test scans). It is applied to the run's ``summary.csv`` and, where the
paper published the numbers (REFERENCE.md §2), to the paper's own table, so the "paper"
column is computed, not typed. The MEEP paper reports no ACDC numbers (its cardiac set is
the left atrium), so its claim has no paper value.

The papers' metrics map to ours: macro-ACE ``ace``, micro-ACE ``micro_ace``, the NACL
paper's ECE ``fg_ece`` (foreground pixels), CECE ``cece``, Dice ``dice``, HD95 ``hd95``
(pixels), the MEEP paper's ECE and Brier ``ece`` and ``brier``.

Example:
    >>> table = loss_claims_table(None)
    >>> table.loc[0, "paper"], bool(table.loc[0, "paper held"])
    ('10.2, 7.8 < 13.1', True)
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from oodcalib.benchmark.layout import CLEAN

Values = Callable[[str], pd.Series]
#: The ACE paper, ACDC (fractions): {metric: {loss: value}}.
ACE_PAPER = {
    "dice": {"dice_ce": 0.880, "hl1ace": 0.880, "sl1ace": 0.871},
    "ace": {"dice_ce": 0.131, "hl1ace": 0.102, "sl1ace": 0.078},
    "micro_ace": {"dice_ce": 0.103, "hl1ace": 0.069, "sl1ace": 0.035},
}
#: The NACL paper, ACDC (fractions; HD95 in pixels): {metric: {loss: value}}.
NACL_PAPER = {
    "dice": {
        "dice_ce": 0.828,
        "focal": 0.620,
        "ecp": 0.782,
        "ls": 0.809,
        "svls": 0.824,
        "mbls": 0.827,
        "nacl": 0.854,
    },  # fmt: skip
    "hd95": {
        "dice_ce": 3.14,
        "focal": 7.30,
        "ecp": 4.44,
        "ls": 3.30,
        "svls": 2.81,
        "mbls": 2.99,
        "nacl": 2.55,
    },  # fmt: skip
    "fg_ece": {
        "dice_ce": 0.137,
        "focal": 0.153,
        "ecp": 0.130,
        "ls": 0.083,
        "svls": 0.091,
        "mbls": 0.103,
        "nacl": 0.048,
    },  # fmt: skip
    "cece": {
        "dice_ce": 0.084,
        "focal": 0.179,
        "ecp": 0.094,
        "ls": 0.093,
        "svls": 0.083,
        "mbls": 0.081,
        "nacl": 0.061,
    },  # fmt: skip
}
#: The NACL paper's family of losses (CE+DSC is our ``dice_ce``).
NACL_FAMILY = ["dice_ce", "focal", "ecp", "ls", "svls", "mbls", "nacl"]
#: Metrics in the papers' units that are not percentages.
RAW_UNITS = {"hd95"}


def paper_values(table: dict[str, dict[str, float]]) -> Values:
    """An accessor over one paper's table, in percent (HD95 in pixels)."""

    def values(metric: str) -> pd.Series:
        series = pd.Series(table[metric], dtype=float)
        return series if metric in RAW_UNITS else 100 * series

    return values


def run_values(summary: pd.DataFrame, method: str = "uc", domain: str = CLEAN) -> Values:
    """An accessor over a loss grid's ``summary.csv``: ``method`` on ``domain``, percent."""

    def values(metric: str) -> pd.Series:
        rows = summary[(summary["metric"] == metric) & (summary["method"] == method)]
        series = rows.set_index("loss")[domain].astype(float)
        return series if metric in RAW_UNITS else 100 * series

    return values


def _ace_below(v: Values) -> tuple[str, bool]:
    ace = v("ace")
    held = bool(ace["hl1ace"] < ace["dice_ce"] and ace["sl1ace"] < ace["dice_ce"])
    sign = "<" if held else "vs"
    return f"{ace['hl1ace']:.1f}, {ace['sl1ace']:.1f} {sign} {ace['dice_ce']:.1f}", held


def _soft_below_hard(v: Values) -> tuple[str, bool]:
    ace, dice = v("ace"), v("dice")
    gap = abs(dice["sl1ace"] - dice["hl1ace"])
    held = bool(ace["sl1ace"] < ace["hl1ace"] and gap <= 1.0)
    text = f"{ace['sl1ace']:.1f} vs {ace['hl1ace']:.1f}; Dice {dice['sl1ace']:.1f} vs "
    return text + f"{dice['hl1ace']:.1f}", held


def _nacl_best(v: Values) -> tuple[str, bool]:
    ece, dice = v("fg_ece")[NACL_FAMILY], v("dice")[NACL_FAMILY]
    held = bool(ece.idxmin() == "nacl" and dice.idxmax() == "nacl")
    text = f"fg-ECE {ece['nacl']:.1f} (lowest {ece.idxmin()} {ece.min():.1f}); Dice "
    return text + f"{dice['nacl']:.1f} (best {dice.idxmax()} {dice.max():.1f})", held


def _regularisers_below(v: Values) -> tuple[str, bool]:
    ece = v("fg_ece")
    below = [loss for loss in ["ls", "svls", "mbls", "nacl"] if ece[loss] < ece["dice_ce"]]
    return f"{len(below)} of 4 below {ece['dice_ce']:.1f}", len(below) == 4


def _focal_worst(v: Values) -> tuple[str, bool]:
    dice = v("dice")[NACL_FAMILY]
    text = f"FL {dice['focal']:.1f} (worst {dice.idxmin()} {dice.min():.1f})"
    return text, bool(dice.idxmin() == "focal")


def _meep(v: Values) -> tuple[str, bool]:
    ece, brier, dice = v("ece"), v("brier"), v("dice")
    parts, held = [], True
    for loss in ["meep_kl", "meep_h"]:
        ok = ece[loss] < ece["ce"] and brier[loss] < brier["ce"] and dice["ce"] - dice[loss] <= 1
        held &= bool(ok)
        parts.append(f"{loss}: ECE {ece[loss]:.1f}, Brier {brier[loss]:.1f}, Dice {dice[loss]:.1f}")
    base = f"CE: ECE {ece['ce']:.1f}, Brier {brier['ce']:.1f}, Dice {dice['ce']:.1f}"
    return "; ".join([*parts, base]), held


#: (claim, the paper whose table checks it or None, function of an accessor).
LOSS_CLAIMS: list[tuple[str, dict | None, Callable[[Values], tuple[str, bool]]]] = [
    ("ACE: hL1-ACE and sL1-ACE below Dice+CE on macro-ACE", ACE_PAPER, _ace_below),
    ("ACE: sL1-ACE < hL1-ACE on macro-ACE, Dice within 1 point", ACE_PAPER, _soft_below_hard),
    ("NACL: lowest foreground ECE of its family and the best Dice", NACL_PAPER, _nacl_best),
    (
        "NACL: LS, SVLS, MbLS and NACL each below CE+DSC on foreground ECE",
        NACL_PAPER,
        _regularisers_below,
    ),  # fmt: skip
    ("NACL: FL the worst Dice of its family", NACL_PAPER, _focal_worst),
    ("MEEP: MEEP-KL and MEEP-H below CE on ECE and Brier, Dice within 1 point", None, _meep),
]


def loss_claims_table(summary: pd.DataFrame | None) -> pd.DataFrame:
    """Each claim on the paper's numbers and on a run (``summary`` None: the paper only).

    Returns:
        Columns ``claim``, ``paper``, ``paper held``, and with a run ``ours``, ``held``.
    """
    rows = []
    for claim, paper, check in LOSS_CLAIMS:
        row: dict[str, object] = {"claim": claim, "paper": "(left atrium, no ACDC numbers)"}
        row["paper held"] = True
        if paper is not None:
            row["paper"], row["paper held"] = check(paper_values(paper))
        if summary is not None:
            row["ours"], row["held"] = check(run_values(summary))
        rows.append(row)
    return pd.DataFrame(rows)


def paper_comparison(summary: pd.DataFrame) -> pd.DataFrame:
    """Every published ACDC number of the ACE and NACL papers beside ours, with the ratio.

    Returns:
        Columns ``paper`` (ACE or NACL), ``loss``, ``metric``, ``theirs``, ``ours``,
        ``ratio`` (ours / theirs), in percent (HD95 in pixels).
    """
    ours = run_values(summary)
    rows = [
        {"paper": name, "loss": loss, "metric": metric, "theirs": theirs}
        for name, table in [("ACE", ACE_PAPER), ("NACL", NACL_PAPER)]
        for metric in table
        for loss, theirs in paper_values(table)(metric).items()
    ]
    frame = pd.DataFrame(rows)
    pairs = zip(frame["metric"], frame["loss"], strict=True)
    frame["ours"] = [ours(metric).get(loss, float("nan")) for metric, loss in pairs]
    frame["ratio"] = frame["ours"] / frame["theirs"]
    return frame


def loss_claims_markdown(table: pd.DataFrame) -> str:
    """The claims table as Markdown (held columns as yes / **no**)."""
    shown = table.copy()
    for column in ["paper held", "held"]:
        if column in shown:
            shown[column] = shown[column].map({True: "yes", False: "**no**"})
    lines = ["| " + " | ".join(shown.columns) + " |", "|" + "---|" * len(shown.columns)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in shown.itertuples(index=False)]
    return "\n".join(lines) + "\n"
