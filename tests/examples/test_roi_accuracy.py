"""examples/plugins/roi_accuracy.py: a metric added by one file, everywhere at once."""

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from oodcalib.cli import app
from oodcalib.metrics import roi_mask, scan_metrics
from tests.examples.conftest import TINY


def test_matches_argmax_accuracy_in_the_roi(plugin):
    plugin("roi_accuracy")
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, (2, 24, 24))
    probs = rng.dirichlet(np.ones(4), (2, 24, 24)).transpose(3, 0, 1, 2)
    roi = roi_mask(labels)
    expected = (probs.argmax(0) == labels)[roi].mean()
    assert scan_metrics(probs, labels)["roi_accuracy"] == expected


def test_reaches_results_summary_and_leaderboard_from_the_cli(plugin, tmp_path):
    path = plugin("roi_accuracy")
    out = tmp_path / "run"
    args = ["run", "--preset", "smoke", "--out", str(out), "--plugin", path]
    tiny = [item for item in TINY if not item.startswith("eval.methods=")]  # a key once
    for item in [*tiny, "eval.methods=uc,ts,lts"]:
        args += ["--set", item]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "roi_accuracy" in set(pd.read_csv(out / "results.csv")["metric"])
    board = CliRunner().invoke(app, ["leaderboard", str(out), "--metric", "roi_accuracy"])
    assert board.exit_code == 0, board.output
    assert "| ROI acc. UC |" in board.output or "| ROI acc. seg. net |" in board.output
