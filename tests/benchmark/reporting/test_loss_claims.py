"""The loss papers' claims: each holds on the papers' own numbers (REFERENCE.md §2), fails
when its finding is broken, and the comparison's ratios are ours over theirs."""

import pandas as pd
import pytest

from oodcalib.benchmark.reporting.loss_claims import (
    ACE_PAPER,
    NACL_PAPER,
    loss_claims_markdown,
    loss_claims_table,
    paper_comparison,
)

LOSSES = ["ce", "dice_ce", "hl1ace", "sl1ace", "focal", "ecp", "ls", "svls", "mbls", "nacl",
          "meep_kl", "meep_h"]  # fmt: skip


def _summary(edits=None):
    """A grid summary where every claim holds (the papers' values, MEEP made to hold)."""
    values = {
        "ace": {**{loss: 0.20 for loss in LOSSES}, **ACE_PAPER["ace"]},
        "micro_ace": {**{loss: 0.20 for loss in LOSSES}, **ACE_PAPER["micro_ace"]},
        "dice": {
            **{loss: 0.80 for loss in LOSSES},
            **NACL_PAPER["dice"],
            "hl1ace": 0.880,
            "sl1ace": 0.871,
            "meep_kl": 0.795,
            "meep_h": 0.80,
        },  # fmt: skip
        "fg_ece": {**{loss: 0.20 for loss in LOSSES}, **NACL_PAPER["fg_ece"]},
        "cece": {**{loss: 0.20 for loss in LOSSES}, **NACL_PAPER["cece"]},
        "hd95": {**{loss: 5.0 for loss in LOSSES}, **NACL_PAPER["hd95"]},
        "ece": {**{loss: 0.10 for loss in LOSSES}, "meep_kl": 0.08, "meep_h": 0.07},
        "brier": {**{loss: 0.10 for loss in LOSSES}, "meep_kl": 0.09, "meep_h": 0.09},
    }
    for (metric, loss), value in (edits or {}).items():
        values[metric][loss] = value
    rows = [
        {"metric": metric, "loss": loss, "method": method, "clean": value}
        for metric, per_loss in values.items()
        for loss, value in per_loss.items()
        for method in ("uc", "ts")
    ]
    return pd.DataFrame(rows)


def test_every_claim_holds_on_the_papers_numbers():
    table = loss_claims_table(None)
    assert table["paper held"].all()
    assert table.loc[4, "paper"] == "FL 62.0 (worst focal 62.0)"
    assert loss_claims_table(_summary())["held"].all()


@pytest.mark.parametrize(
    ("edit", "broken"),
    [
        ({("ace", "hl1ace"): 0.14}, [0]),  # hL1-ACE above Dice+CE (13.1)
        ({("dice", "sl1ace"): 0.85}, [1]),  # 3 Dice points below hL1-ACE
        ({("fg_ece", "ls"): 0.04}, [2]),  # LS below NACL: NACL not the lowest
        ({("fg_ece", "mbls"): 0.14}, [3]),  # MbLS above CE+DSC (13.7)
        ({("dice", "ecp"): 0.60}, [4]),  # ECP below FL (62.0)
        ({("dice", "meep_h"): 0.78}, [5]),  # MEEP-H 2 Dice points below CE
        ({("brier", "meep_kl"): 0.11}, [5]),
    ],
)
def test_breaking_a_finding_fails_its_claim_only(edit, broken):
    table = loss_claims_table(_summary(edit))
    assert sorted(table.index[~table["held"]]) == broken


def test_comparison_is_ours_over_theirs_in_percent_and_pixels():
    summary = _summary({("dice", "nacl"): 0.427, ("hd95", "nacl"): 5.1})
    frame = paper_comparison(summary).set_index(["paper", "loss", "metric"])
    assert frame.loc[("NACL", "nacl", "dice"), "ratio"] == pytest.approx(0.5)
    assert frame.loc[("NACL", "nacl", "hd95"), "ratio"] == pytest.approx(2.0)
    assert frame.loc[("ACE", "sl1ace", "ace"), "theirs"] == pytest.approx(7.8)
    assert len(frame) == 3 * 3 + 4 * 7


def test_markdown_marks_failures():
    text = loss_claims_markdown(loss_claims_table(_summary({("ace", "hl1ace"): 0.14})))
    assert text.count("**no**") == 1 and text.startswith("| claim | paper | paper held |")
