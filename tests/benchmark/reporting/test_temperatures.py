"""TS's fitted temperatures per loss: read from the run, summarised, read as over/under."""

import json

import pandas as pd
import pytest

from oodcalib.benchmark.reporting.temperatures import (
    temperature_markdown,
    temperature_summary,
    temperature_table,
)
from oodcalib.errors import DataError

#: (loss, fold) -> fitted temperature; the repeats of a fold share it, as in a real run.
FITS = {("ce", 0): 0.95, ("ce", 1): 1.05, ("ls", 0): 0.55, ("ls", 1): 0.65, ("dice_ce", 0): 1.3}


def _write(run_dir, fits=FITS):
    for (loss, fold), temperature in fits.items():
        folder = run_dir / "losses" / loss / f"fold{fold}" / "per_case"
        folder.mkdir(parents=True, exist_ok=True)
        for repeat in (0, 1):
            state = {"method": "ts", "fitted": {"temperature_": temperature, "nll_after_": 0.1}}
            (folder / f"ts_r{repeat}.json").write_text(json.dumps(state))
        (folder / "uc_r0.json").write_text(json.dumps({"method": "uc", "fitted": {}}))
    return run_dir


def test_table_reads_every_fit_of_every_cell(tmp_path):
    table = temperature_table(_write(tmp_path))
    assert len(table) == 2 * len(FITS)  # two repeats per cell; UC's files are not fits
    got = table.groupby(["loss", "fold"])["temperature"].mean().to_dict()
    assert got == pytest.approx(FITS)


def test_summary_hand_computed_means_and_readings(tmp_path):
    summary = temperature_summary(temperature_table(_write(tmp_path))).set_index("loss")
    assert list(summary.index) == ["dice_ce", "ce", "ls"]  # most overconfident first
    assert summary.at["ce", "mean"] == pytest.approx(1.0) and summary.at["ce", "folds"] == 2
    assert summary.at["ls", "min"] == 0.55 and summary.at["ls", "max"] == 0.65
    assert summary["reading"].to_dict() == {
        "dice_ce": "overconfident",  # 1.3 > 1.1
        "ce": "calibrated",  # 0.95 and 1.05 within [0.9, 1.1]
        "ls": "underconfident",  # both below 0.9
    }
    mixed = temperature_summary(
        pd.DataFrame({"loss": "x", "fold": [0, 1], "repeat": 0, "temperature": [0.8, 1.0]})
    )
    assert mixed.at[0, "reading"] == "mixed"


def test_markdown_names_the_losses_and_the_rule(tmp_path):
    summary = temperature_summary(temperature_table(_write(tmp_path)))
    text = temperature_markdown(summary, {"dice_ce": "Dice+CE"})
    assert "| Dice+CE | 1 | 1.30 | 1.30 | 1.30 | overconfident |" in text
    assert "| ls | 2 | 0.60 | 0.55 | 0.65 | underconfident |" in text  # no name: its key
    assert "T > 1.1 in every fold" in text


def test_a_broken_fit_names_its_file(tmp_path):
    _write(tmp_path)
    broken = tmp_path / "losses" / "ls" / "fold1" / "per_case" / "ts_r1.json"
    broken.write_text('{"fitted": {}}')
    with pytest.raises(DataError, match="ts_r1.json.*no fitted temperature"):
        temperature_table(tmp_path)
