import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from oodcalib.benchmark.reporting.leaderboard import (
    leaderboard_table,
    markdown_table,
    write_leaderboard,
)
from oodcalib.benchmark.reporting.significance import significance_mark
from oodcalib.benchmark.reporting.statistics import compare_to_reference
from oodcalib.cli import app
from oodcalib.errors import DataError, OodcalibError

METHODS = ["uc", "alea", "ts", "lts", "proposed"]
DOMAINS = ["clean", "bias_field", "motion", "ghosting", "spike", "lge"]
ARTIFACTS = ["bias_field", "motion", "ghosting", "spike"]
ORDER = ["clean", "bias_field", "motion", "ghosting", "spike", "artifact avg", "lge"]
#: Display names as the CLI passes them (from the registries).
NAMES = {"uc": "UC", "alea": "Alea.", "ts": "TS", "lts": "LTS", "proposed": "Proposed"}
HEADERS = {
    "clean": "Intra",
    "bias_field": "Bias",
    "motion": "Motion",
    "ghosting": "Ghost",
    "spike": "Spike",
    "lge": "Cross-seq (LGE)",
}


def synthetic_results() -> pd.DataFrame:
    """3 folds x 3 repeats x 5 cases; LTS = base, UC/TS worse, Proposed better, Alea. even."""
    rng = np.random.default_rng(0)
    units = [(f, r, f"p{c}") for f in range(3) for r in range(3) for c in range(5)]
    symmetric = np.array([(i // 2 + 1) * 1e-3 * (-1) ** i for i in range(len(units))])
    rows = []
    for d, domain in enumerate(DOMAINS):
        base = 0.05 + 0.03 * d + rng.uniform(0.0, 0.05, len(units))
        dice = 0.9 - 0.05 * d + rng.uniform(-0.05, 0.05, len(units))
        shifts = {
            "uc": 0.08 + rng.uniform(0, 0.01, len(units)),
            "alea": symmetric,
            "ts": 0.07 + rng.uniform(0, 0.01, len(units)),
            "lts": 0.0,
            "proposed": -0.01 - rng.uniform(0, 0.005, len(units)),
        }
        for method in METHODS:
            ece = base + shifts[method]
            for metric, values in (("ece", ece), ("sce", ece / 2), ("dice", dice)):
                rows += [
                    {
                        "method": method,
                        "fold": f,
                        "repeat": r,
                        "domain": domain,
                        "case": c,
                        "metric": metric,
                        "value": v,
                    }
                    for (f, r, c), v in zip(units, values, strict=True)
                ]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def results():
    return synthetic_results()


@pytest.fixture(scope="module")
def stats(results):
    return compare_to_reference(results, "lts", correction="holm")


def _row(stats, metric, domain, method):
    return stats[
        (stats["metric"] == metric) & (stats["domain"] == domain) & (stats["method"] == method)
    ].iloc[0]


def test_artifact_avg_is_the_per_unit_mean_over_artifact_domains(results, stats):
    for method in ("uc", "lts"):
        subset = results[
            (results["method"] == method)
            & (results["metric"] == "ece")
            & results["domain"].isin(ARTIFACTS)
        ]
        per_unit = subset.groupby(["fold", "repeat", "case"])["value"].mean()
        row = _row(stats, "ece", "artifact avg", method)
        assert row["n"] == 45 and row["mean"] == pytest.approx(per_unit.mean())
        assert row["std"] == pytest.approx(per_unit.std(ddof=1))
    lts = results[(results["method"] == "lts") & (results["metric"] == "ece")]
    assert _row(stats, "ece", "clean", "lts")["mean"] == pytest.approx(
        lts[lts["domain"] == "clean"]["value"].mean()
    )


def test_units_missing_in_one_artifact_domain_leave_the_average(results):
    dropped = results[
        ~(
            (results["domain"] == "spike")
            & (results["case"] == "p0")
            & (results["fold"] == 0)
            & (results["repeat"] == 0)
        )
    ]
    table = compare_to_reference(dropped, "lts", ("ece",))
    counts = table[table["method"] == "uc"].set_index("domain")["n"]
    assert counts["spike"] == counts["artifact avg"] == 44 and counts["motion"] == 45
    assert "n = 44–45" in markdown_table(table)


def test_marks_and_holm(stats):
    assert (stats["mark"] == [significance_mark(p) for p in stats["p_adjusted"]]).all()
    ece = stats[stats["metric"] == "ece"]
    assert (ece[ece["method"].isin(["uc", "ts", "proposed"])]["mark"] == "†").all()
    assert (ece[ece["method"] == "alea"]["mark"] == "∗").all()
    assert (ece[ece["method"] == "lts"]["mark"] == "").all()
    for _, family in stats[stats["method"] != "lts"].groupby(["metric", "domain"]):
        assert family["p_adjusted"].min() == pytest.approx(min(1, 4 * family["p_value"].min()))
        assert (family["p_adjusted"] >= family["p_value"]).all()
    diff = _row(stats, "ece", "clean", "proposed")
    assert diff["ci_low"] <= diff["diff"] <= diff["ci_high"] < 0
    dice = stats[stats["metric"] == "dice"]
    assert (dice["diff"] == 0).all() and (dice[dice["method"] != "lts"]["p_value"] == 1).all()


def test_leaderboard_table_layout(stats):
    table = leaderboard_table(stats, NAMES, HEADERS)
    assert table["method"].tolist() == METHODS
    domains = [
        c.split("/")[1] for c in table.columns if c.startswith("ece/") and c.endswith("/mean")
    ]
    assert domains == ORDER
    uc = _row(stats, "sce", "motion", "uc")
    row = table.set_index("method").loc["uc"]
    assert row["sce/motion/mean"] == uc["mean"] and row["sce/motion/p"] == uc["p_value"]
    assert row["sce/motion/mark"] == "†" and 0 < row["sce/motion/mean"] < 1


def test_markdown_table_like_table_one(stats):
    text = markdown_table(stats, "lts", NAMES, HEADERS)
    lines = text.splitlines()
    assert lines[0] == (
        "| | Intra | Bias | Motion | Ghost | Spike | Artifact avg | Cross-seq (LGE) |"
    )
    labels = [line.split(" | ")[0][2:] for line in lines[2:] if line.startswith("| ")]
    names = [NAMES[m] for m in METHODS]
    assert labels == [f"ECE {n}" for n in names] + [f"SCE {n}" for n in names] + ["Dice seg. net"]
    proposed = _row(stats, "ece", "clean", "proposed")["mean"]
    assert f"| ECE {NAMES['proposed']} | {100 * proposed:.2f}† |" in text
    lts_line = next(line for line in lines if line.startswith(f"| ECE {names[3]} |"))
    assert not set("†‡∗") & set(lts_line)
    assert "| 100" not in text and "Dice seg. net | " in text
    dice = _row(stats, "dice", "lge", "lts")["mean"]
    assert f"{100 * dice:.2f} |" in lines[2 + 10]
    footnote = lines[-1]
    for token in (
        "Wilcoxon",
        "Holm",
        "n = 45",
        "† p < 0.01",
        "‡ p < 0.05",
        "∗ p ≥ 0.05",
        NAMES["lts"],
    ):
        assert token in footnote


@pytest.mark.filterwarnings("ignore:Precision loss")  # near-constant differences
def test_dice_differing_across_methods_gets_one_row_per_method(results):
    changed = results.copy()
    mask = (changed["method"] == "proposed") & (changed["metric"] == "dice")
    changed.loc[mask, "value"] += 0.01
    text = markdown_table(
        compare_to_reference(changed, "lts", ("dice",), test="ttest"), names=NAMES
    )
    assert "seg. net" not in text
    assert f"| Dice {NAMES['proposed']} |" in text
    assert "paired t-test" in text and "no multiple-comparison correction" in text


def test_unmatched_units_name_method_and_domain(results):
    broken = results.drop(
        results[
            (results["method"] == "ts")
            & (results["domain"] == "motion")
            & (results["case"] == "p3")
        ].index
    )
    with pytest.raises(OodcalibError, match="method 'ts', domain 'motion'"):
        compare_to_reference(broken, "lts", ("ece",))


def test_write_leaderboard_and_cli(results, tmp_path):
    results.to_csv(tmp_path / "results.csv", index=False)
    csv_path, md_path = write_leaderboard(tmp_path, metrics=("ece",), test="ttest")
    assert csv_path == tmp_path / "leaderboard.csv" and md_path.read_text("utf-8")[0] == "|"
    assert (tmp_path / "leaderboard_stats.csv").exists()
    out = tmp_path / "boards" / "lb.csv"
    result = CliRunner().invoke(
        app,
        [
            "leaderboard",
            str(tmp_path),
            "--metric",
            "ece",
            "--metric",
            "sce",
            "--holm",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"| ECE {NAMES['lts']} |" in result.output and "Holm" in result.output
    assert "Dice" not in result.output.split("\n\n")[0]
    for path in (out, out.with_suffix(".md"), out.with_name("lb_stats.csv")):
        assert path.exists() and str(path) in result.output
    wide = pd.read_csv(out)
    assert wide["method"].tolist() == METHODS and "sce/lge/mark" in wide.columns


def test_cli_errors_name_the_problem(results, tmp_path):
    runner = CliRunner()
    missing = runner.invoke(app, ["leaderboard", str(tmp_path)])
    assert missing.exit_code == 2 and "results.csv" in missing.output
    results[results["method"] != "lts"].to_csv(tmp_path / "results.csv", index=False)
    no_ref = runner.invoke(app, ["leaderboard", str(tmp_path)])
    assert no_ref.exit_code == 2 and "entrants present: alea, proposed, ts, uc" in no_ref.output
    bad = runner.invoke(app, ["leaderboard", str(tmp_path), "--reference", "uc", "--test", "z"])
    assert bad.exit_code == 2 and "ttest, wilcoxon" in bad.output
    with pytest.raises(DataError, match="results.csv"):
        write_leaderboard(tmp_path)


@pytest.mark.filterwarnings("ignore:Precision loss")  # near-constant differences
def test_per_loss_leaderboard_marks_each_loss_against_its_own_uc(results, tmp_path):
    grid = pd.concat(
        [
            results[results["method"].isin(["uc", "ts"])].assign(
                loss=loss, value=lambda f, s=s: f["value"] + s
            )
            for loss, s in (("ce", 0.0), ("nacl", 0.1))
        ],
        ignore_index=True,
    )
    grid.to_csv(tmp_path / "results.csv", index=False)
    result = CliRunner().invoke(
        app, ["leaderboard", str(tmp_path), "--per-loss", "--metric", "ece"]
    )
    assert result.exit_code == 0, result.output
    assert "against UC on the same loss (unmarked)" in result.output
    rows = {line.split(" | ")[0]: line for line in result.output.splitlines() if line[:2] == "| "}
    uc_rows = [line for name, line in rows.items() if name.endswith("/uc")]
    assert len(uc_rows) == 2 and not any(mark in "".join(uc_rows) for mark in "†‡∗")
    stats = pd.read_csv(tmp_path / "leaderboard_stats.csv")
    assert set(stats["reference"]) == {"ce/uc", "nacl/uc"} and set(stats["loss"]) == {"ce", "nacl"}
    # the same UC-TS differences on both losses: the nacl shift must not enter them
    ts = stats[(stats["method"] == "ts") & (stats["domain"] == "clean")]
    assert ts["diff"].iloc[0] == pytest.approx(ts["diff"].iloc[1])
    plain = CliRunner().invoke(app, ["leaderboard", str(tmp_path / "nowhere"), "--per-loss"])
    assert plain.exit_code == 2 and "results.csv" in plain.output
