"""Every method against a reference: matched units, artifact average, errors."""

import numpy as np
import pandas as pd
import pytest

from oodcalib.benchmark.reporting.statistics import compare_to_reference, compare_within_losses
from oodcalib.errors import OodcalibError, UnknownNameError


def _results(methods=("uc", "lts"), cases=6):
    rows = []
    for m, shift in zip(methods, (0.05, 0.0, -0.02), strict=False):
        for domain in ("clean", "motion", "spike"):
            for c in range(cases):
                rows.append(
                    {
                        "method": m,
                        "fold": 0,
                        "repeat": 0,
                        "domain": domain,
                        "case": f"p{c}",
                        "metric": "ece",
                        "value": 0.1 + 0.01 * c * c + shift,
                    }
                )
    return pd.DataFrame(rows)


@pytest.mark.filterwarnings("ignore:Precision loss")  # near-constant differences
def test_compare_to_reference_small_case():
    table = compare_to_reference(_results(), "lts", ("ece",), test="ttest")
    assert list(table["domain"].unique()) == ["clean", "motion", "spike", "artifact avg"]
    uc = table[(table["method"] == "uc") & (table["domain"] == "clean")].iloc[0]
    assert uc["n"] == 6 and uc["diff"] == pytest.approx(0.05)
    assert uc["ci_low"] == uc["ci_high"] == pytest.approx(0.05)  # constant differences
    assert uc["p_value"] < 1e-6 and uc["mark"] == "†"
    ref = table[table["method"] == "lts"]
    assert ref["p_value"].isna().all() and (ref["mark"] == "").all() and (ref["diff"] == 0).all()


def test_compare_to_reference_errors():
    with pytest.raises(OodcalibError, match="entrants present: lts, uc"):
        compare_to_reference(_results(), "proposed", ("ece",))
    with pytest.raises(OodcalibError, match="metrics present: ece"):
        compare_to_reference(_results(), "lts", ("ece", "dice"))
    with pytest.raises(UnknownNameError, match="holm, none"):
        compare_to_reference(_results(), "lts", ("ece",), correction="bonferroni")
    frame = _results()
    with pytest.raises(OodcalibError, match="duplicated"):
        compare_to_reference(pd.concat([frame, frame.iloc[:1]]), "lts", ("ece",))
    frame.loc[3, "value"] = np.nan
    with pytest.raises(OodcalibError, match="NaN value"):
        compare_to_reference(frame, "lts", ("ece",))
    with pytest.raises(OodcalibError, match="lack column"):
        compare_to_reference(_results().drop(columns="repeat"), "lts", ("ece",))


def _grid():
    """Two losses x (UC, TS); TS - UC is +0.03 on ``ce`` and -0.02 on ``nacl``, per unit."""
    frames = []
    for loss, ts_shift in (("ce", 0.03), ("nacl", -0.02)):
        for method, shift in (("uc", 0.0), ("ts", ts_shift)):
            frame = _results(methods=("uc",), cases=6).assign(loss=loss, method=method)
            frame["value"] = frame["value"] - 0.05 + shift + (0.1 if loss == "nacl" else 0.0)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


@pytest.mark.filterwarnings("ignore:Precision loss")  # constant differences
def test_compare_within_losses_tests_each_loss_against_its_own_reference():
    table = compare_within_losses(_grid(), "uc", metrics=("ece",), test="ttest")
    clean = table[table["domain"] == "clean"].set_index("method")
    # hand-computed: the paired difference is the shift TS adds on that loss
    assert clean.at["ce/ts", "diff"] == pytest.approx(0.03)
    assert clean.at["nacl/ts", "diff"] == pytest.approx(-0.02)
    assert clean.at["ce/uc", "diff"] == clean.at["nacl/uc", "diff"] == 0.0
    assert set(table["reference"]) == {"ce/uc", "nacl/uc"}
    assert (table[table["method"].str.endswith("/uc")]["mark"] == "").all()
    # against one reference for all, nacl/ts would differ from ce/uc by 0.08 instead
    single = compare_to_reference(_grid(), "ce/uc", ("ece",), test="ttest")
    assert single.set_index(["domain", "method"]).at[("clean", "nacl/ts"), "diff"] == (
        pytest.approx(0.08)
    )


def test_compare_within_losses_errors():
    with pytest.raises(OodcalibError, match="needs a loss grid"):
        compare_within_losses(_results(), "uc", metrics=("ece",))
    with pytest.raises(OodcalibError, match="a method name such as 'uc'"):
        compare_within_losses(_grid(), "ce/uc", metrics=("ece",))
    with pytest.raises(OodcalibError, match="entrants present: ce/ts, ce/uc"):
        compare_within_losses(_grid(), "lts", metrics=("ece",))
