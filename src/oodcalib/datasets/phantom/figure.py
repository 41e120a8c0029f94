"""A figure of phantom slices with their label contours, to judge the anatomy by eye.

One row per case (cine cases first, then LGE), one column per slice position: the most
basal slice, a basal one, the mid-ventricular slice, an apical one and the last slice.
RV contours are blue, myocardium green and LV blood pool red.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from oodcalib.datasets.case import Case

#: Contour colour of each foreground class (RV, MYO, LV).
COLOURS = {1: "#3b8bff", 2: "#35d049", 3: "#ff4040"}
#: Columns: relative position along the stack (0 base, 1 apex) and their titles.
COLUMNS = ((0.0, "base"), (0.2, "basal"), (0.5, "mid"), (0.8, "apical"), (1.0, "apex"))


def slice_positions(n_slices: int) -> list[int]:
    """Indices of the slices shown for a stack of ``n_slices`` (mid: ``(n - 1) // 2``).

    Example:
        >>> slice_positions(10)
        [0, 2, 4, 7, 9]
    """
    return [(n_slices - 1) // 2 if f == 0.5 else round(f * (n_slices - 1)) for f, _ in COLUMNS]


def describe_case(case: Case) -> str:
    """One line on a phantom case: phenotype, pixel size, slices and acquisition events.

    Example:
        >>> from oodcalib.datasets.phantom import load_phantom
        >>> describe_case(load_phantom(1, size=64)[0]).split()[:2]
        ['phantom000', 'normal']
    """
    assert case.spacing is not None  # phantom cases always carry their pixel size
    meta = case.meta
    geometry, acquisition = meta["geometry"], meta["acquisition"]
    events = [f"{len(acquisition['flow'])} flow"] if acquisition["flow"] else []
    events += ["banding"] if acquisition.get("banding") else []
    events += ["scar"] if meta["scar_slices"] else []
    return (f"{case.case_id:<15} {meta['anatomy']['phenotype']:<12} "
            f"{case.spacing[0]:.2f} mm  {case.num_slices:2d} slices x "
            f"{geometry['thickness']:.1f} mm (gap {geometry['slice_gap']:.1f} mm)  "
            f"noise {acquisition['noise_sigma'] / meta['intensities']['blood_lv']:.1%}"
            + (f"  {', '.join(events)}" if events else ""))  # fmt: skip


def phantom_figure(cases: list[Case], path: str | Path, *, title: str | None = None) -> Path:
    """Write a PNG grid of slices of ``cases`` with label contours.

    Args:
        cases: Cases with labels; one row each.
        path: Output PNG.
        title: Figure title (default: none).

    Returns:
        The path written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows, cols = len(cases), len(COLUMNS)
    fig, axes = plt.subplots(rows, cols, figsize=(2.2 * cols, 2.3 * rows), squeeze=False)
    for row, case in enumerate(cases):
        assert case.label is not None and case.spacing is not None  # "cases with labels"
        lo, hi = np.percentile(case.image, [0.5, 99.5])
        for col, index in enumerate(slice_positions(case.num_slices)):
            ax = axes[row, col]
            ax.imshow(case.image[index], cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
            for cls, colour in COLOURS.items():
                mask = (case.label[index] == cls).astype(float)
                if mask.any():
                    ax.contour(mask, levels=[0.5], colors=colour, linewidths=0.7)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{COLUMNS[col][1]} {index + 1}/{case.num_slices}", fontsize=7)
            if col == 0:
                ax.set_ylabel(f"{case.case_id}\n{case.spacing[0]:.2f} mm", fontsize=7)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / (2.3 * rows)) if title else None)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_phantom_figure(
    path: str | Path, *, cases: int = 3, seed: int = 0, size: int = 160
) -> tuple[Path, list[Case]]:
    """Generate ``cases`` cine and ``cases`` LGE phantom cases and draw them to ``path``.

    Args:
        path: Output PNG.
        cases: Cases per contrast.
        seed: Phantom seed.
        size: Image size in pixels.

    Returns:
        The path written and the cases drawn.
    """
    from oodcalib.datasets.phantom import load_phantom

    shown = [*load_phantom(cases, seed=seed, size=size),
             *load_phantom(cases, seed=seed, size=size, contrast="lge")]  # fmt: skip
    title = f"phantom (seed {seed}, {size} px): bSSFP cine, then LGE; RV blue, MYO green, LV red"
    return phantom_figure(shown, path, title=title), shown
