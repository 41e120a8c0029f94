"""The README: short, its headline table equal to the committed reference's claims.md, and
every relative link pointing at a file of the repository."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_is_read_in_two_minutes():
    assert len(README.splitlines()) <= 200


def test_headline_table_is_the_committed_claims_table():
    table = re.search(r"<!-- claims:quick-acdc -->\n(.*?)<!-- /claims -->", README, re.S)
    assert table is not None
    claims = (ROOT / "results/reference/quick-acdc/claims.md").read_text(encoding="utf-8")
    assert table.group(1).strip() == claims.strip()


def test_every_relative_link_resolves_inside_the_repository():
    for document in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = document.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if re.match(r"[a-z]+://|mailto:", target):
                continue
            path = (document.parent / target).resolve()
            assert path.is_relative_to(ROOT), f"{document.name} links outside: {target}"
            if document.name == "README.md":  # the docs' links: mkdocs build --strict
                assert path.exists(), f"README: broken link {target}"
