"""The README: short, its headline table equal to the committed reference's claims.md, and
every relative link pointing at a file of the repository."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_is_read_in_two_minutes():
    assert len(README.splitlines()) <= 200


# the reference runs whose claims the README shows (each once its claims.md is committed)
HEADLINES = ("quick-acdc", "losses-acdc")


def _first_section(claims: str) -> str:
    """claims.md up to its first ``## `` heading (a loss grid's adds more sections)."""
    return re.split(r"^## ", claims, maxsplit=1, flags=re.M)[0].strip()


def test_readme_claims_tables_are_the_committed_claims():
    blocks = dict(re.findall(r"<!-- claims:([\w-]+) -->\n(.*?)<!-- /claims -->", README, re.S))
    assert "quick-acdc" in blocks
    for name in HEADLINES:
        path = ROOT / "results/reference" / name / "claims.md"
        if path.exists():
            assert name in blocks, f"README lacks the <!-- claims:{name} --> block"
    for name, table in blocks.items():
        claims = (ROOT / "results/reference" / name / "claims.md").read_text(encoding="utf-8")
        assert _first_section(claims).startswith("| claim |"), f"{name}: claims.md opens its table"
        assert table.strip() == _first_section(claims), f"README's {name} claims are stale"


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
