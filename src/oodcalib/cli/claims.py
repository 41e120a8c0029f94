"""``oodcalib claims``: the papers' findings, held or not, on a finished run.

A run of the paper's calibrators is checked against the paper's Table 1; a loss grid
(``--preset losses``) against the ACE, NACL and MEEP papers' in-domain findings, with
every published number beside ours and the networks' convergence.
"""

from __future__ import annotations

from pathlib import Path

import typer

from oodcalib.cli.options import _fail, _names, _writable


def claims(run_dir: Path) -> None:
    """Check the papers' claims on a run; print them and write claims.md.

    A single-loss run is checked against the paper's Table 1 (from its ``summary.csv``, or
    summarised from its per-case results). A loss grid is checked against the loss
    papers' findings, with their published numbers and ours side by side
    (``loss_papers.csv``), each network's convergence (``convergence.csv``) and, where TS
    ran, whether each loss's networks were over- or underconfident (``temperatures.csv``).
    """
    from oodcalib.atomic import atomic_write
    from oodcalib.errors import OodcalibError

    try:
        path = _writable(Path(run_dir) / "claims.md", "claims table", file=True)
        if (Path(run_dir) / "losses").is_dir():
            text = _loss_grid_claims(Path(run_dir))
        else:
            text = _table1_claims(Path(run_dir))
        atomic_write(path, lambda f: f.write(text.encode()))
    except OodcalibError as error:
        _fail(error)
    typer.echo(text)
    typer.echo(f"wrote {path}")


def _table1_claims(run_dir: Path) -> str:
    import pandas as pd

    from oodcalib.benchmark.protocol.runner import collect_results
    from oodcalib.benchmark.reporting.paper_claims import (
        COLUMNS,
        PAPER_METHODS,
        PAPER_TABLE1,
        claims_markdown,
        claims_table,
    )
    from oodcalib.benchmark.reporting.summary import summary_table
    from oodcalib.errors import OodcalibError

    stored = run_dir / "summary.csv"
    if stored.is_file():
        summary = pd.read_csv(stored)
    else:
        summary = summary_table(collect_results(run_dir), list(PAPER_TABLE1), **_names(run_dir))
    metrics = set(summary.get("metric", []))
    missing = sorted(set(PAPER_METHODS) - set(summary.get("method", []))) + sorted(
        (set(PAPER_TABLE1) - metrics) | (set(COLUMNS) - set(summary.columns))
    )
    if missing:
        raise OodcalibError(
            f"{run_dir}: the paper's Table 1 needs {', '.join(missing)}, which the run "
            "lacks (run every method of the paper on every Table 1 domain)"
        )
    return claims_markdown(claims_table(summary))


def _loss_grid_claims(run_dir: Path) -> str:
    from oodcalib.atomic import write_csv
    from oodcalib.benchmark.protocol.runner import collect_results
    from oodcalib.benchmark.reporting.convergence import convergence_markdown, convergence_table
    from oodcalib.benchmark.reporting.dataset_metrics import with_dataset_metrics
    from oodcalib.benchmark.reporting.loss_claims import (
        ACE_PAPER,
        LOSS_CLAIMS,
        NACL_PAPER,
        loss_claims_markdown,
        loss_claims_table,
        paper_comparison,
    )
    from oodcalib.benchmark.reporting.summary import summary_table
    from oodcalib.benchmark.reporting.temperatures import (
        temperature_markdown,
        temperature_summary,
        temperature_table,
    )
    from oodcalib.errors import OodcalibError

    results = with_dataset_metrics(collect_results(run_dir), run_dir)
    metrics = sorted({*ACE_PAPER, *NACL_PAPER, "ece", "brier"})
    summary = summary_table(results, metrics, **_names(run_dir))
    needed = {loss for table in (ACE_PAPER, NACL_PAPER) for m in table.values() for loss in m}
    missing = sorted((needed | {"ce", "meep_kl", "meep_h"}) - set(summary["loss"]))
    if missing or "uc" not in set(summary["method"]):
        raise OodcalibError(
            f"{run_dir}: the loss papers' claims need UC on the losses "
            f"{', '.join(missing or ['(all present)'])} (run --preset losses)"
        )
    comparison = paper_comparison(summary)
    write_csv(run_dir / "loss_papers.csv", comparison)
    convergence = convergence_table(run_dir)
    write_csv(run_dir / "convergence.csv", convergence)
    shown = comparison.assign(
        **{c: comparison[c].map("{:.2f}".format) for c in ["theirs", "ours", "ratio"]}
    )
    # the claims table first, as in a Table 1 claims.md: the README quotes this section
    lines = [
        loss_claims_markdown(loss_claims_table(summary)),
        f"The loss papers' {len(LOSS_CLAIMS)} findings on the clean test scans, UC.",
        "",
        "## Published ACDC numbers beside ours (%, HD95 in pixels; ratio ours / theirs)",
        "",
        "| " + " | ".join(shown.columns) + " |",
        "|" + "---|" * len(shown.columns),
        *("| " + " | ".join(map(str, row)) + " |" for row in shown.itertuples(index=False)),
        "",
        "## Convergence",
        "",
        convergence_markdown(convergence),
    ]
    temperatures = temperature_table(run_dir)
    if not temperatures.empty:
        summary = temperature_summary(temperatures)
        write_csv(run_dir / "temperatures.csv", summary)
        lines += ["", "## Confidence before TS", "", temperature_markdown(summary)]
    return "\n".join(lines)
