"""What a foreign network declares about itself: its input grid, intensities and classes.

A TorchScript file ``net.pt`` comes with ``net.json`` beside it; a folder of saved
predictions may hold ``oodcalib.json``. Keys:

- ``size``: side (pixels) of the in-plane crop, at ``spacing`` (``data.size``);
- ``spacing``: in-plane pixel size (mm) the scans are resampled to (``data.spacing``);
- ``input_size``: side the crop is resized to, the network input (``data.input_size``;
  absent or null: ``size``);
- ``normalisation``: the intensity normalisation (``robust``, ``zscore``, ``none``;
  :mod:`oodcalib.datasets.intensity`);
- ``classes``: the class of each output channel, in channel order: ``background``,
  ``RV``, ``MYO``, ``LV`` (or their codes 0-3). Several channels may name one class
  (their probabilities are added); every class needs a channel.

Example ``net.json`` (the built-in quick preset's grid)::

    {"size": 160, "spacing": 1.5, "input_size": 96, "normalisation": "robust",
     "classes": ["background", "RV", "MYO", "LV"]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oodcalib.datasets.case import CLASS_NAMES
from oodcalib.errors import DataError

#: Keys of a declaration and the ``data.*`` key each sets.
GRID_KEYS = {
    "size": "data.size",
    "spacing": "data.spacing",
    "input_size": "data.input_size",
    "normalisation": "data.normalisation",
}
KEYS = (*GRID_KEYS, "classes")


@dataclass(frozen=True)
class Declaration:
    """A parsed sidecar; None where the sidecar leaves the run's setting.

    Attributes:
        path: The sidecar (for messages).
        grid: ``{data key: value}`` of the keys it sets.
        classes: The package class code (0-3) of every output channel.
    """

    path: str
    grid: dict[str, Any]
    classes: tuple[int, ...] = tuple(range(len(CLASS_NAMES)))

    @property
    def num_channels(self) -> int:
        """K, the network's output channels."""
        return len(self.classes)


def parse_classes(value: Any, path: str | Path) -> tuple[int, ...]:
    """Class codes of ``classes`` entries (names or codes), every class covered.

    Raises:
        DataError: An unknown entry, or a class no channel covers (naming ``path``).

    Example:
        >>> parse_classes(["background", "LV", "myo", "RV", "background"], "net.json")
        (0, 3, 2, 1, 0)
    """
    names = {n.lower(): code for code, n in enumerate(CLASS_NAMES)}
    if not isinstance(value, list) or not value:
        raise DataError(path, "'classes' must be a list: the class of every output channel")
    codes = []
    for entry in value:
        if isinstance(entry, str) and entry.lower() in names:
            codes.append(names[entry.lower()])
        elif isinstance(entry, int) and not isinstance(entry, bool) and 0 <= entry < 4:
            codes.append(entry)
        else:
            raise DataError(
                path,
                f"'classes' entry {entry!r} is not a class; use {', '.join(CLASS_NAMES)} or 0-3",
            )
    missing = [CLASS_NAMES[c] for c in range(len(CLASS_NAMES)) if c not in codes]
    if missing:
        raise DataError(
            path,
            f"'classes' {value} maps no output channel to {', '.join(missing)}; every class "
            "needs a channel",
        )
    return tuple(codes)


def read_declaration(path: str | Path, required: tuple[str, ...] = ()) -> Declaration:
    """Read and check a sidecar.

    Args:
        path: The JSON file.
        required: Keys it must have (a TorchScript file's sidecar needs all of them).

    Raises:
        DataError: A missing or unreadable file, a missing or unknown key, a bad value.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(
            path, f"sidecar not found; it declares the network's {', '.join(KEYS)} (JSON)"
        )
    try:
        raw = json.loads(path.read_text())
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as error:
        raise DataError(path, f"unreadable sidecar ({error})") from None
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise DataError(path, f"unknown key(s) {', '.join(unknown)}; valid: {', '.join(KEYS)}")
    missing = [k for k in required if k not in raw]
    if missing:
        raise DataError(path, f"missing key(s) {', '.join(missing)}")
    grid = {GRID_KEYS[k]: raw[k] for k in GRID_KEYS if k in raw}
    if "size" in raw:  # the crop is the input unless the sidecar resizes it
        grid.setdefault(GRID_KEYS["input_size"], None)
    classes = parse_classes(raw["classes"], path) if "classes" in raw else Declaration.classes
    return Declaration(str(path), grid, classes)
