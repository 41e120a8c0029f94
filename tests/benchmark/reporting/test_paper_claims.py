"""Claims of the paper's Table 1: each holds on the paper's own numbers and fails when the
finding it states is broken."""

import pandas as pd
import pytest

from oodcalib.benchmark.reporting.paper_claims import (
    COLUMNS,
    claims_markdown,
    claims_table,
    paper_summary,
)


def _edit(metric: str, method: str, column: str, value: float) -> pd.DataFrame:
    frame = paper_summary()
    frame.loc[(frame["metric"] == metric) & (frame["method"] == method), column] = value
    return frame


def test_every_claim_holds_on_the_paper_and_the_text_is_computed():
    table = claims_table(paper_summary())
    assert table["held"].all()
    assert table.loc[1, "paper"] == "12.78 vs 14.48" == table.loc[1, "ours"]


@pytest.mark.parametrize(
    ("edit", "broken"),
    [
        (("ece", "ts", "spike", 0.40), [0, 4]),  # TS above UC (39.05) on spike
        (("ece", "proposed", "lge", 0.17), [2, 4]),  # Proposed above LTS (16.78) on LGE
        (("ece", "alea", "clean", 0.031), [4]),  # Alea. below Proposed and LTS: order
        (("sce", "lts", "motion", 0.07), [5]),  # LTS below Proposed (7.23) on SCE
        (("dice", "uc", "lge", 0.80), [6]),  # LGE no longer among the hardest
    ],
)
def test_breaking_a_finding_fails_its_claims_only(edit, broken):
    table = claims_table(_edit(*edit))
    assert sorted(table.index[~table["held"]]) == broken


def test_two_lowest_needs_five_columns():
    frame = paper_summary()
    for column in COLUMNS[:3]:  # Alea. below LTS in three columns: 4 of 7 left
        frame.loc[(frame["metric"] == "ece") & (frame["method"] == "alea"), column] = 0.001
    table = claims_table(frame)
    assert table.loc[3, "ours"] == "4 of 7" and not table.loc[3, "held"]


def test_markdown_marks_what_failed():
    text = claims_markdown(claims_table(_edit("ece", "ts", "spike", 0.40)))
    assert text.count("**no**") == 2 and text.startswith("| claim | paper | ours | held |")
