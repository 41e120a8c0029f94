"""Example plugin: a new data source, a folder of preprocessed ``<case>.npz`` files.

Each file holds ``image`` and ``label`` arrays of shape ``(Z, H, W)`` (labels 0
background, 1 RV, 2 MYO, 3 LV) and optionally ``spacing`` (in-plane, mm). Use it with::

    oodcalib run --plugin examples/plugins/npz_folder.py --data npz_folder --data-root DIR
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from oodcalib.config import DataConfig
from oodcalib.datasets import SOURCES, Case
from oodcalib.datasets.file_glob import glob_files
from oodcalib.datasets.validation import validate_case
from oodcalib.errors import DataError, OodcalibError


def load_npz_folder(root: str | Path, domain: str = "clean") -> list[Case]:
    """Every ``<case>.npz`` of ``root`` as a validated case (errors name the file)."""
    files = glob_files(Path(root) / "*.npz")  # each file once, by its real path
    if not files:
        raise DataError(
            root,
            "no .npz files found; expected <case>.npz files holding "
            "'image' and 'label' arrays of shape (Z, H, W)",
        )
    cases = []
    for path in files:
        try:
            with np.load(path) as data:
                image, label = data["image"], data["label"]
                spacing = tuple(map(float, data["spacing"])) if "spacing" in data else None
        except (OSError, KeyError, ValueError) as error:
            raise DataError(path, f"cannot read 'image' and 'label' ({error})") from error
        case = Case(
            path.stem, image.astype(np.float32), label.astype(np.uint8), domain, spacing, str(path)
        )
        cases.append(validate_case(case))
    return cases


def from_config(data: DataConfig, seed: int = 0) -> list[Case]:
    """The source as the benchmark builds it: ``--data-root`` is the folder."""
    if not data.root:
        raise OodcalibError("data source 'npz_folder' needs --data-root (a folder of .npz)")
    return load_npz_folder(data.root)


SOURCES["npz_folder"] = from_config
