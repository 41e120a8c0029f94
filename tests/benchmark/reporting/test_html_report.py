"""``oodcalib report``: one self-contained page, rendered in headless Chromium.

The end-to-end test makes a smoke run (one fold, spike and LGE), a severity sweep on it,
writes the report and screenshots it with Debian's ``chromium``. It skips when chromium is
absent, except under ``CI=true`` (then it fails).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from oodcalib.benchmark.reporting.html_report import markdown_html, render_report
from oodcalib.cli import app

runner = CliRunner()
WIDTH, HEIGHT = 1280, 1600


class Tables(HTMLParser):
    """Every ``<table>`` of a page as a list of rows of cell texts; ``<img>`` sources."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.images: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.images.append(dict(attrs)["src"])

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(text: str) -> Tables:
    tables = Tables()
    tables.feed(text)
    return tables


def test_markdown_tables_and_paragraphs_become_escaped_html():
    text = "| | Intra | A<B |\n|---|---|---|\n| ECE UC | 9.04† | 1.00 |\n\nMarks: p < 0.01.\n"
    page = parse(markdown_html(text))
    assert page.tables == [[["", "Intra", "A<B"], ["ECE UC", "9.04†", "1.00"]]]
    assert "&lt;B" in markdown_html(text) and "<p>Marks: p &lt; 0.01.</p>" in markdown_html(text)


def test_a_directory_without_records_still_renders_and_says_what_is_missing(tmp_path):
    page = render_report(tmp_path)
    assert "No leaderboard" in page and "<script" not in page


def test_report_of_a_missing_run_is_one_line_exit_2(tmp_path):
    result = runner.invoke(app, ["report", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "nowhere" in result.output
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "run"
    sets = [
        "data.n_folds=1",
        "eval.repeats=1",
        "eval.corruptions=spike",
        "eval.methods=uc,ts,lts",
    ]
    run = runner.invoke(
        app,
        ["run", "--preset", "smoke", "--out", str(out), "--report", *[f"--set={s}" for s in sets]],
    )
    assert run.exit_code == 0, run.output
    # `make benchmark` ends with this line: the run's last words are the report's path
    assert run.output.rstrip().splitlines()[-1] == f"report: {out / 'report.html'}"
    assert "Calibration under shift" not in (out / "report.html").read_text(encoding="utf-8")
    sweep = runner.invoke(app, ["ablate", str(out), "--severity", "1", "--methods", "uc"])
    assert sweep.exit_code == 0, sweep.output
    result = runner.invoke(app, ["report", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_report_holds_the_leaderboard_figures_and_records(reported):
    out, output = reported
    path = out / "report.html"
    assert f"report: {path}" in output
    text = path.read_text(encoding="utf-8")
    # self-contained: nothing to fetch, nothing to run
    assert not re.search(r"(src|href)=\"(?!data:)", text)
    assert "<script" not in text and "http://" not in text and "https://" not in text
    page = parse(text)
    # every figure is an embedded PNG: the summary, the reliability of every method on the
    # clean scans and LGE, and the severity curves
    assert all(src.startswith("data:image/png;base64,") for src in page.images)
    assert len(page.images) == 1 + 3 * 2 + 1
    assert "Calibration under shift" in text and "Minutes per stage" in text
    assert (out / "figures" / "summary_ece.png").is_file()
    # the leaderboard's values and marks, against the CSV the run wrote
    board = pd.read_csv(out / "leaderboard.csv")
    table = page.tables[0]
    header = table[0]
    cells = {row[0]: dict(zip(header, row, strict=True)) for row in table[1:]}
    checked = 0
    for _, entrant in board.iterrows():
        for domain, column in (("clean", "Intra"), ("spike", "Spike"), ("lge", "Cross-seq (LGE)")):
            mean = entrant[f"ece/{domain}/mean"]
            mark = entrant[f"ece/{domain}/mark"]
            expected = f"{100 * mean:.2f}" + (mark if isinstance(mark, str) else "")
            assert cells[f"ECE {entrant['name']}"][column] == expected
            checked += 1
    assert checked == 9
    assert any(set(cell) & set("†‡∗") for row in table[1:] for cell in row[1:])
    # the stage minutes add up to their total
    minutes = next(t for t in page.tables if t[0][0] == "stage")
    stages = {row[0]: float(row[-1]) for row in minutes[1:]}
    total = stages.pop("total")
    assert total == pytest.approx(sum(stages.values()), abs=0.01 * len(stages))


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "chromium not installed (apt-get install -y chromium)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message + "; CI=true: the report must render")
        pytest.skip(message)
    return path


def test_report_renders_offline_in_headless_chromium(reported, tmp_path):
    from PIL import Image

    out, _ = reported
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # no network: every host unresolved
            f"--screenshot={shot}",
            f"--window-size={WIDTH},{HEIGHT}",
            (out / "report.html").resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    image = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert image.shape == (HEIGHT, WIDTH)
    dark = image < 128  # text, table lines, plot marks
    assert 0.005 < dark.mean() < 0.5, dark.mean()
    # ink in the top and the bottom half: the title and tables, then the figures
    assert dark[: HEIGHT // 2].mean() > 0.002 and dark[HEIGHT // 2 :].mean() > 0.002
