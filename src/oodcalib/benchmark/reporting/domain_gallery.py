"""One slice of a scan in every test domain: what each artifact does to the network input.

:func:`write_domain_gallery` draws the slice with the most heart in the clean scan, as the
network sees it (prepared, corrupted, normalised), once per domain, with the ground-truth
contours. The artifact domains show the same patient; LGE and extra domains their own
first scan (their slice is chosen the same way).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from oodcalib.benchmark.names import display_name
from oodcalib.benchmark.reporting.figures import _contour, save_figure
from oodcalib.datasets.case import Case

_PANEL = 2.6  # inches per panel
_COLOURS = {1: "tab:blue", 2: "tab:green", 3: "tab:red"}  # RV, MYO, LV


def heart_slice(case: Case) -> int:
    """Index of the slice with the most labelled heart (the middle slice without a label).

    Example:
        >>> label = np.zeros((3, 4, 4), np.uint8); label[2, :2] = 1
        >>> heart_slice(Case("a", np.zeros((3, 4, 4)), label, "clean"))
        2
    """
    if case.label is None or not case.label.any():
        return case.image.shape[0] // 2
    return int(np.argmax((case.label > 0).sum(axis=(1, 2))))


def write_domain_gallery(
    cases: Mapping[str, Case], path: Path, names: Mapping[str, str] | None = None
) -> Path:
    """Draw one slice per domain (``{domain: case}``, in table order) to ``path`` (PNG).

    Args:
        cases: The scan shown for each domain (see
            :func:`~oodcalib.benchmark.protocol.case_view.domain_cases`).
        path: The PNG to write.
        names: ``{domain: header}`` of the run (the domains' own names if unset).
    """
    fig = Figure(figsize=(_PANEL * len(cases), _PANEL + 0.4))
    FigureCanvasAgg(fig)
    for ax, (domain, case) in zip(
        fig.subplots(1, len(cases), squeeze=False)[0], cases.items(), strict=True
    ):
        z = heart_slice(case)
        ax.imshow(case.image[z], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        if case.label is not None:
            for code, colour in _COLOURS.items():
                _contour(ax, case.label[z] == code, colors=colour, linewidths=0.6)
        ax.set_title(f"{display_name(domain, names)}\n{case.case_id}, slice {z}", fontsize=8)
        ax.set_axis_off()
    fig.tight_layout()
    return save_figure(fig, path)
