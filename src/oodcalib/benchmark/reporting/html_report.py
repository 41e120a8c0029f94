"""One self-contained HTML page of a run, to open offline and share: ``report.html``.

The page holds the leaderboard with its significance marks (``leaderboard.md``), the
summary and dataset-reliability figures (``figures/summary_*.png``,
``figures/dataset_reliability_*.png``), the severity curves and table of a severity
sweep (``ablation/severity/``), the configuration, the environment and the minutes per
stage. Figures are embedded as base64 ``data:`` URIs and the style sheet is inline: the
file loads nothing, runs no script and needs no network.

This module only reads what a run (and ``oodcalib figures``) wrote; ``oodcalib report``
draws the figures a run lacks before calling :func:`write_report`.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from oodcalib.atomic import write_text
from oodcalib.benchmark.layout import ablation_dir
from oodcalib.benchmark.names import display_name
from oodcalib.benchmark.reporting.timings import (
    timings_minutes,
    timings_table,
    wall_time_sentence,
)

#: Name of the page in the run directory.
REPORT_NAME = "report.html"

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; color: #1b1b1b; background: #fff; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc;
     padding-bottom: 0.2em; margin-top: 1.8em; }
p.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #d0d0d0; padding: 0.25em 0.6em; text-align: right; }
th { background: #f0f3f6; } td:first-child, th:first-child { text-align: left; }
tbody tr:nth-child(even) { background: #fafafa; }
img { max-width: 100%; height: auto; border: 1px solid #eee; margin: 0.4em 0; }
pre { background: #f6f8fa; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
details { margin: 0.4em 0; } summary { cursor: pointer; font-weight: 600; }
.note { color: #555; font-size: 0.9em; } figure { margin: 0.6em 0; }
figcaption { color: #555; font-size: 0.85em; }
"""


def data_uri(path: Path) -> str:
    r"""A PNG file as a ``data:image/png;base64,...`` URI.

    Example:
        >>> import tempfile
        >>> png = Path(tempfile.mkdtemp()) / "x.png"
        >>> _ = png.write_bytes(b"\x89PNG")
        >>> data_uri(png)
        'data:image/png;base64,iVBORw=='
    """
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def markdown_html(text: str) -> str:
    r"""The tables and paragraphs of a Markdown file oodcalib wrote, as HTML.

    Lines starting with ``|`` form a table (the first is its header, the ``|---|`` row is
    dropped); other lines are paragraphs, split at blank lines. Text is escaped.

    Example:
        >>> print(markdown_html("| | Intra |\n|---|---|\n| ECE UC | 9.04† |\n\nMarks: †"))
        <table><thead><tr><th></th><th>Intra</th></tr></thead>
        <tbody><tr><td>ECE UC</td><td>9.04†</td></tr></tbody></table>
        <p>Marks: †</p>
    """
    blocks: list[list[str]] = []
    for line in text.splitlines():
        kind = "table" if line.lstrip().startswith("|") else "text" if line.strip() else ""
        if not kind:
            blocks.append([])
        elif blocks and blocks[-1] and blocks[-1][0] == kind:
            blocks[-1].append(line)
        else:
            blocks.append([kind, line])
    parts = []
    for block in filter(None, blocks):
        kind, lines = block[0], block[1:]
        if kind == "text":
            parts.append(f"<p>{html.escape(' '.join(x.strip() for x in lines))}</p>")
            continue
        rows = [_cells(x) for x in lines if not set(x.strip()) <= set("|-: ")]
        head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
            for row in rows[1:]
        )
        parts.append(f"<table><thead><tr>{head}</tr></thead>\n<tbody>{body}</tbody></table>")
    return "\n".join(parts)


def _figure(path: Path, caption: str) -> str:
    alt = html.escape(caption, quote=True)
    return (
        f'<figure><img src="{data_uri(path)}" alt="{alt}"><figcaption>{alt}</figcaption></figure>'
    )


def _relative(path: Path, run_dir: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path(run_dir).resolve()).as_posix()
    except ValueError:
        return Path(path).name


def _reliability(paths: Sequence[Path], domains: Mapping[str, str]) -> str:
    """One folding section per domain; the domain is the file name's longest known suffix."""
    by_domain: dict[str, list[Path]] = {}
    known = sorted(domains, key=len, reverse=True)
    for path in sorted(paths):
        stem = path.stem.removeprefix("dataset_reliability_")
        domain = next((d for d in known if stem.endswith("_" + d)), stem.rsplit("_", 1)[-1])
        by_domain.setdefault(domain, []).append(path)
    order = [d for d in domains if d in by_domain] + [d for d in by_domain if d not in domains]
    sections = []
    for index, domain in enumerate(order):
        figures = "\n".join(_figure(p, p.name) for p in by_domain[domain])
        opened = " open" if index == 0 else ""
        header = html.escape(display_name(domain, domains))
        sections.append(f"<details{opened}><summary>{header}</summary>\n{figures}</details>")
    return "\n".join(sections)


def _key_values(record: Mapping[str, object]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(str(key))}</td><td>"
        + html.escape(value if isinstance(value, str) else json.dumps(value))
        + "</td></tr>"
        for key, value in record.items()
    )
    return f"<table><tbody>{rows}</tbody></table>"


def _json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def render_report(
    run_dir: Path,
    summary_figures: Sequence[Path] = (),
    reliability_figures: Sequence[Path] = (),
    domains: Mapping[str, str] | None = None,
) -> str:
    """The HTML text of a run's report (see the module docstring for its sections).

    Args:
        run_dir: The run directory.
        summary_figures: PNGs of every method's metric across the domains.
        reliability_figures: ``dataset_reliability_<method>_<domain>.png`` files.
        domains: ``{domain: header}`` of the run, in column order.
    """
    run_dir = Path(run_dir)
    domains = domains or {}
    config, environment = _json(run_dir / "config.json"), _json(run_dir / "environment.json")
    title = f"oodcalib run {run_dir.resolve().name}"
    meta = ", ".join(
        f"{key} {value}"
        for key, value in (
            ("preset", config.get("preset")),
            ("data", (config.get("data") or {}).get("source")),
            ("seed", config.get("seed")),
            ("oodcalib", (environment.get("packages") or {}).get("oodcalib")),
            ("git", str(environment.get("git_revision") or "")[:10] or None),
        )
        if value is not None
    )
    parts = [f"<h1>{html.escape(title)}</h1>", f'<p class="meta">{html.escape(meta)}</p>']
    board = run_dir / "leaderboard.md"
    parts.append("<h2>Leaderboard</h2>")
    parts.append(
        markdown_html(board.read_text(encoding="utf-8"))
        if board.is_file()
        else '<p class="note">No leaderboard: the run has no reference method (LTS).</p>'
    )
    if summary_figures:
        parts.append("<h2>Every method across the domains</h2>")
        parts += [_figure(p, _relative(p, run_dir)) for p in summary_figures]
    if reliability_figures:
        parts.append("<h2>Dataset reliability</h2>")
        parts.append(
            '<p class="note">The ACE paper\'s dataset reliability histograms, per method '
            "and domain (bins pooled over the test scans of every fit).</p>"
        )
        parts.append(_reliability(reliability_figures, domains))
    severity = ablation_dir(run_dir, "severity")
    if (severity / "severity.png").is_file():
        parts.append("<h2>Calibration under shift: severity curves</h2>")
        parts.append(
            _figure(severity / "severity.png", _relative(severity / "severity.png", run_dir))
        )
        if (severity / "table.md").is_file():
            parts.append(markdown_html((severity / "table.md").read_text(encoding="utf-8")))
    if (run_dir / "timings.json").is_file():
        minutes = timings_minutes(timings_table(run_dir))
        parts.append("<h2>Minutes per stage</h2>")
        parts.append(minutes.to_html(index=False, float_format=lambda v: f"{v:.2f}", border=0))
        wall = wall_time_sentence(run_dir)
        if wall is not None:
            parts.append(f"<p>Wall time of the run: {html.escape(wall)}.</p>")
    if environment:
        parts.append("<h2>Environment</h2>")
        parts.append(_key_values(environment))
    if config:
        parts.append("<h2>Configuration</h2>")
        parts.append(f"<pre>{html.escape(json.dumps(config, indent=2))}</pre>")
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def write_report(
    run_dir: Path,
    summary_figures: Sequence[Path] = (),
    reliability_figures: Sequence[Path] = (),
    domains: Mapping[str, str] | None = None,
    out: Path | None = None,
) -> Path:
    """Write :func:`render_report` to ``out`` (default ``run_dir/report.html``); its path."""
    path = Path(out) if out else Path(run_dir) / REPORT_NAME
    write_text(path, render_report(run_dir, summary_figures, reliability_figures, domains))
    return path


__all__ = ["REPORT_NAME", "data_uri", "markdown_html", "render_report", "write_report"]
