"""Ablation tables: per-unit artifact average, numeric setting order, Table-2 Markdown."""

import numpy as np
import pandas as pd
import pytest

from oodcalib.benchmark.reporting.ablation_table import (
    ablation_markdown,
    ablation_table,
    write_ablation_tables,
)


def frame(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [
        (m, s, 0, 0, d, c, k, float(rng.random()))
        for m in ("alea", "proposed")
        for s in ("10", "2")
        for d in ("clean", "motion", "spike", "lge")
        for c in ("a", "b")
        for k in ("ece", "sce")
    ]
    return pd.DataFrame(
        rows, columns=["method", "setting", "fold", "repeat", "domain", "case", "metric", "value"]
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_artifact_average_is_the_mean_of_per_scan_artifact_means(seed):
    results = frame(seed)
    table = ablation_table(results).set_index(["method", "setting", "metric"])
    for (method, setting, metric), row in table.iterrows():
        cell = results[
            (results.method == method) & (results.setting == setting) & (results.metric == metric)
        ]
        per_case = cell[cell.domain.isin(["motion", "spike"])].groupby("case")["value"].mean()
        assert row["artifact avg"] == pytest.approx(per_case.mean())
        assert row["clean"] == pytest.approx(cell[cell.domain == "clean"]["value"].mean())


def test_numeric_settings_sort_numerically_and_markdown_uses_display_names(tmp_path):
    table = ablation_table(frame())
    assert table[table.method == "alea"]["setting"].drop_duplicates().tolist() == ["2", "10"]
    text = ablation_markdown(table, "num_aug", {"alea": "Alea.", "proposed": "Proposed"})
    assert text.splitlines()[0] == (
        "| method | N_A | artifact avg ECE | artifact avg SCE | clean ECE | LGE ECE |"
    )
    assert text.index("| Alea. | 2 |") < text.index("| Alea. | 10 |")
    csv_path, md_path = write_ablation_tables(frame(), tmp_path, "components")
    assert csv_path.exists() and "| alea | 2 |" in md_path.read_text()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_step_tests_match_scipy_on_the_per_scan_artifact_average(seed):
    from scipy.stats import wilcoxon

    from oodcalib.benchmark.reporting.ablation_table import step_tests

    rng = np.random.default_rng(seed)
    rows = [
        ("proposed", s, f, 0, d, c, "ece", float(rng.random()) + 0.01 * int(s))
        for s in ("10", "2", "5")
        for f in (0, 1)
        for d in ("clean", "motion", "spike")
        for c in "abcdefghij"
    ]
    results = pd.DataFrame(
        rows, columns=["method", "setting", "fold", "repeat", "domain", "case", "metric", "value"]
    )
    steps = step_tests(results)
    assert steps[["setting", "previous"]].values.tolist() == [["5", "2"], ["10", "5"]]
    art = results[results.domain != "clean"].groupby(["setting", "fold", "case"])["value"].mean()
    for _, row in steps.iterrows():
        a, b = art.loc[row["setting"]], art.loc[row["previous"]]
        assert row["diff"] == pytest.approx((a - b).mean())
        assert row["p"] == pytest.approx(wilcoxon(a.to_numpy(), b.to_numpy()).pvalue)
    text = ablation_markdown(ablation_table(results), "num_aug", steps=steps)
    assert text.splitlines()[0].endswith("| Δ artifact avg ECE from previous (p) |")
    assert "| proposed | 2 |" in text and text.splitlines()[2].endswith("| — |")
    # the component ablation's settings are names: no steps
    named = results.assign(setting=results.setting.map({"2": "both", "5": "neither", "10": "x"}))
    assert step_tests(named).empty
