"""Griffe extension for the API pages: docstrings written for Sphinx, read as Markdown.

The package's Google-style docstrings title their doctests ``Example:`` (singular), which
the Google convention allows but griffe reads as an admonition of Markdown text, and
they cross-reference with Sphinx roles (``:func:`~oodcalib.x.f```). For the site only,
``Example:`` becomes ``Examples:`` (the doctests render as code) and a role becomes the
code span of its name (``f``, or the full path without ``~``).
"""

from __future__ import annotations

import re

import griffe

EXAMPLE = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)
ROLE = re.compile(r":(?:mod|func|class|meth|data|attr|exc|obj):`(~?)([^`]+)`")


def _role(match: re.Match) -> str:
    short, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if short else target}`"


class SphinxDocstrings(griffe.Extension):
    """Rename ``Example:`` sections and drop Sphinx roles in every loaded docstring."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        """Rewrite the docstring of each loaded object before it is parsed."""
        if obj.docstring is not None:
            text = EXAMPLE.sub(r"\1Examples:", obj.docstring.value)
            obj.docstring.value = ROLE.sub(_role, text)
