"""Looking at a data set before running on it: a table per case and a contact sheet.

``oodcalib inspect`` loads any source the way a run would (reoriented, labels remapped)
and shows, per case, the shape, spacing, stored orientation, label counts and the label
plausibility verdict (:mod:`oodcalib.datasets.plausibility`), plus one PNG of the
mid-ventricular slices with the labels overlaid, so a user sees at once whether the RV
lies left of the LV and the slices look like the others.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from oodcalib.datasets.case import Case
from oodcalib.datasets.plausibility import NAMES, check_labels

#: Overlay colours of RV, MYO and LV (transparent background).
COLOURS = ListedColormap(
    [(0, 0, 0, 0), (0.0, 0.45, 0.7, 0.55), (0.9, 0.6, 0.0, 0.55), (0.8, 0.2, 0.2, 0.55)]
)


def inspection_table(cases: list[Case]) -> pd.DataFrame:
    """One row per case: shape, spacing, orientation, label counts, plausibility.

    Example:
        >>> label = np.zeros((2, 4, 4), np.uint8); label[:, 1, 1] = 3
        >>> case = Case("p1", np.zeros((2, 4, 4), np.float32), label, "clean", (1.5, 1.5))
        >>> inspection_table([case])[["case", "slices", "lv", "plausible"]].values.tolist()
        [['p1', 2, 2, 'n/a']]
    """
    rows = []
    for case in cases:
        row = {
            "case": case.case_id,
            "domain": case.domain,
            "slices": case.image.shape[0],
            "height": case.image.shape[1],
            "width": case.image.shape[2],
            "spacing_mm": (  # unknown for the preprocessed ACDC HDF5 files
                "-" if case.spacing is None else "x".join(f"{s:.2f}" for s in case.spacing)
            ),
            "orientation": case.meta.get("orientation", "-"),
        }
        if case.label is not None:
            counts = np.bincount(case.label.ravel(), minlength=4)
            row |= {name.lower(): int(counts[code]) for code, name in NAMES.items()}
            verdict = check_labels(case)
            row["plausible"] = (
                "n/a"
                if verdict is None
                else f"swapped? best {verdict.best}"
                if verdict.swapped
                else "yes"
            )
        rows.append(row)
    return pd.DataFrame(rows)


def mid_slice(case: Case) -> int:
    """The slice to show: the middle of those holding every class (else the middle one)."""
    if case.label is not None:
        full = [z for z in range(case.label.shape[0]) if len(np.unique(case.label[z])) == 4]
        if full:
            return full[len(full) // 2]
    return case.image.shape[0] // 2


def contact_sheet(cases: list[Case], columns: int = 6, title: str = "") -> Figure:
    """Mid slices of ``cases`` with their labels overlaid (RV blue, MYO orange, LV red)."""
    rows = max(1, -(-len(cases) // columns))
    fig = Figure(figsize=(2.0 * columns, 2.15 * rows + 0.4))
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, case in zip(axes, cases, strict=False):
        z = mid_slice(case)
        image = case.image[z]
        low, high = np.percentile(image, (1, 99)) if image.size else (0, 1)
        ax.imshow(image, cmap="gray", vmin=low, vmax=max(high, low + 1e-6))
        if case.label is not None:
            ax.imshow(case.label[z], cmap=COLOURS, vmin=0, vmax=3, interpolation="nearest")
        ax.set_title(f"{case.case_id} z={z}", fontsize="x-small")
    fig.suptitle(
        title or "mid slices: RV blue, MYO orange, LV red (RV should be left of LV)",
        fontsize="small",
    )
    return fig


def write_contact_sheet(cases: list[Case], path: Path, title: str = "") -> Path:
    """Write :func:`contact_sheet` as a PNG; return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    contact_sheet(cases, title=title).savefig(path, dpi=110, bbox_inches="tight")
    return path
