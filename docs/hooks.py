"""mkdocs hook: serve committed files from where they live in the repository.

The reference results' figures (``results/reference/**/*.png``) and the plugin examples
(``examples/plugins/*.py``) are added to the site under their repository paths, so a page
links ``results/reference/quick-acdc/figures/summary_ece.png`` without a copy in
``docs/``, and ``mkdocs build --strict`` checks those links like any other.
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
SERVED = {"results/reference": "*.png", "examples/plugins": "*.py"}


def on_files(files, config):
    """Add the served files to the site's files."""
    for folder, pattern in SERVED.items():
        for path in sorted((ROOT / folder).rglob(pattern)):
            uri = path.relative_to(ROOT).as_posix()
            files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files


def on_page_content(html, page, config, files):
    """Fail the build when the generated CLI page lacks a command of the Typer app.

    mkdocs-typer2 runs ``typer oodcalib.cli utils docs`` and leaves the page empty if that
    command fails; this check turns an empty or partial page into a build error.
    """
    if page.file.src_uri != "cli.md":
        return html
    import typer.main
    from mkdocs.exceptions import PluginError

    from oodcalib.cli import app

    commands = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    missing = [name for name in commands if f"oodcalib {name}" not in html]
    if missing:
        raise PluginError(
            f"cli.md: the generated CLI reference lacks {', '.join(missing)}; is the `typer` "
            "command of the environment on PATH (mkdocs-typer2 runs it)?"
        )
    return html


# Tables computed at build time from the committed references, so the numbers on a page
# are those of the files: ``<!-- oodcalib:NAME results/reference/RUN -->`` in a page.
MARKER = re.compile(r"<!-- oodcalib:(\w+) (\S+) -->")


def _markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _timings(run_dir: Path) -> str:
    """Minutes per stage and fold of a run (its ``timings.json``)."""
    from oodcalib.benchmark.reporting.timings import timings_minutes, timings_table

    table = timings_minutes(timings_table(run_dir))
    rows = [[row[0], *(f"{v:.2f}" for v in row[1:])] for row in table.itertuples(index=False)]
    return _markdown(list(table.columns), rows)


def _ours_vs_paper(run_dir: Path) -> str:
    """Every Table 1 cell, ours (the run's ``summary.csv``) / the paper's, in %."""
    import pandas as pd

    from oodcalib.benchmark.names import display_name, domain_names, method_names
    from oodcalib.benchmark.reporting.grouping import metric_label
    from oodcalib.benchmark.reporting.paper_claims import COLUMNS, PAPER_TABLE1

    ours = pd.read_csv(run_dir / "summary.csv").set_index(["metric", "method"])
    headers = {**domain_names(None), "artifact avg": "Artifact avg"}
    rows = []
    for metric, methods in PAPER_TABLE1.items():
        for method, paper in methods.items():
            name = "seg. net (UC)" if metric == "dice" else display_name(method, method_names())
            cells = [
                f"{100 * ours.loc[(metric, method), column]:.2f} / {value:.2f}"
                for column, value in zip(COLUMNS, paper, strict=True)
            ]
            rows.append([f"{metric_label(metric)} {name}", *cells])
    return _markdown(["", *(headers.get(c, c) for c in COLUMNS)], rows)


TABLES = {"timings": _timings, "ours_vs_paper": _ours_vs_paper}


def on_page_markdown(markdown, page, config, files):
    """Replace each table marker by the table it names, computed from the files."""
    return MARKER.sub(lambda m: TABLES[m.group(1)](ROOT / m.group(2)), markdown)
