"""Griffe extension for the API pages: a docstring's ``Example:`` section is ``Examples:``.

The package's Google-style docstrings title their doctests ``Example:`` (singular), which
the Google convention allows but griffe reads as an admonition of Markdown text. Renamed
here, for the site only, the doctests render as code.
"""

from __future__ import annotations

import re

import griffe

EXAMPLE = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)


class ExampleSections(griffe.Extension):
    """Rename ``Example:`` sections to ``Examples:`` in every loaded docstring."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        """Rewrite the docstring of each loaded object before it is parsed."""
        if obj.docstring is not None:
            obj.docstring.value = EXAMPLE.sub(r"\1Examples:", obj.docstring.value)
