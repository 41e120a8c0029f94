"""A data pack: the prepared cases of a run in one file, for machines without the data folder.

``oodcalib pack`` loads a source (and the LGE domain) as a run would, prepares every case
on the run's grid (resampled to ``data.spacing``, cropped or padded to ``data.size``:
:func:`~oodcalib.datasets.preprocessing.prepare_case` without the final resize) and
writes them into a zip file of ``.npy`` arrays, LZMA-compressed, with a ``meta.json``. A
run from the pack prepares them again, which changes nothing (the spacing is the target,
the side is ``data.size``), then resizes to ``data.input_size`` as usual: the numbers
are those of the source folders. The pack therefore serves runs of its ``phase``,
``size`` and ``spacing`` only (:func:`check_pack`).

Every array is stored losslessly. A float image with at most 65,535 distinct values
(ACDC's volumes hold a few hundred) is stored as ``uint16`` indices into a table of its
values, other float images as their four byte planes (bytes of equal weight side by
side, which LZMA compresses far better than interleaved floats).
"""

from __future__ import annotations

import json
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np

from oodcalib.datasets.case import Case
from oodcalib.errors import DataError, OodcalibError

FORMAT = "oodcalib-pack-1"


def _encode(image: np.ndarray) -> dict[str, np.ndarray]:
    values, index = np.unique(image, return_inverse=True)
    if len(values) <= 2**16 - 1:
        planes = index.astype(np.uint16).reshape(-1).view(np.uint8).reshape(-1, 2).T
        return {"index": np.ascontiguousarray(planes), "table": values.astype(image.dtype)}
    raw = np.ascontiguousarray(image).reshape(-1).view(np.uint8)
    return {"planes": np.ascontiguousarray(raw.reshape(-1, image.itemsize).T)}


def _decode(arrays: dict[str, np.ndarray], shape: list[int], dtype: str) -> np.ndarray:
    if "table" in arrays:
        index = np.ascontiguousarray(arrays["index"].T).view(np.uint16).reshape(shape)
        return arrays["table"][index]
    return np.ascontiguousarray(arrays["planes"].T).view(dtype).reshape(shape)


def _spacing(spacing) -> list | None:
    """``[[value, type], ...]``: the spacing with the type of each value (float, numpy's)."""
    if spacing is None:
        return None
    return [[float(v), type(v).__name__] for v in spacing]


def _restore_spacing(stored) -> tuple | None:
    if stored is None:
        return None
    types = {"float": float, "float32": np.float32, "float64": np.float64, "int": int}
    return tuple(types.get(kind, float)(value) for value, kind in stored)


def _write_array(archive: zipfile.ZipFile, name: str, array: np.ndarray) -> None:
    with archive.open(name, "w") as f:
        np.lib.format.write_array(f, array, allow_pickle=False)


def write_pack(path: Path, groups: dict[str, list[Case]], info: dict[str, Any]) -> Path:
    """Write ``groups`` of prepared cases (``{"source": [...], "lge": [...]}``) to ``path``.

    Args:
        path: The pack file (written to a temporary name, then renamed).
        groups: Cases per group, in order.
        info: What the cases were prepared for (``phase``, ``size``, ``spacing``, ...).
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    meta: dict[str, Any] = {"format": FORMAT, **info, "groups": {}}
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_LZMA) as archive:
        for group, cases in groups.items():
            entries = []
            for i, case in enumerate(cases):
                prefix = f"{group}/{i}/"
                for key, array in _encode(case.image).items():
                    _write_array(archive, f"{prefix}image_{key}.npy", array)
                if case.label is not None:
                    _write_array(archive, f"{prefix}label.npy", case.label)
                entries.append(
                    {
                        "case_id": case.case_id,
                        "domain": case.domain,
                        "spacing": _spacing(case.spacing),
                        "source": case.source,
                        "meta": case.meta,
                        "shape": list(case.image.shape),
                        "dtype": str(case.image.dtype),
                        "label": case.label is not None,
                    }
                )
            meta["groups"][group] = entries
        archive.writestr("meta.json", json.dumps(meta, default=str, indent=1))
    tmp.replace(path)
    return path


def pack_info(path: str | Path) -> dict[str, Any]:
    """The ``meta.json`` of a pack.

    Raises:
        DataError: Not a readable oodcalib pack.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            meta = json.loads(archive.read("meta.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise DataError(
            path, f"not a readable oodcalib data pack ({error}); make one with `oodcalib pack`"
        ) from None
    if meta.get("format") != FORMAT:
        raise DataError(path, f"pack format {meta.get('format')!r}, expected {FORMAT!r}")
    return meta


def read_pack(path: str | Path, group: str) -> list[Case]:
    """The cases of one group of a pack, as they were written.

    Raises:
        DataError: Not a pack, or it has no such group.
    """
    meta = pack_info(path)
    if group not in meta["groups"]:
        raise DataError(path, f"the pack holds no {group!r} cases (it has {list(meta['groups'])})")
    cases = []
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())

        def load(name: str) -> np.ndarray:
            return np.load(BytesIO(archive.read(name)), allow_pickle=False)

        for i, entry in enumerate(meta["groups"][group]):
            prefix = f"{group}/{i}/"
            arrays = {
                n.removeprefix(prefix + "image_").removesuffix(".npy"): load(n)
                for n in names
                if n.startswith(prefix + "image_")
            }
            image = _decode(arrays, entry["shape"], entry["dtype"])
            label = load(prefix + "label.npy") if entry["label"] else None
            spacing = _restore_spacing(entry["spacing"])
            cases.append(
                Case(
                    entry["case_id"],
                    image,
                    label,
                    entry["domain"],
                    spacing,
                    entry["source"],
                    entry["meta"],
                )
            )
    return cases


def check_pack(path: str | Path, phase: str, size: int, spacing: float) -> dict[str, Any]:
    """The pack's meta, after checking it was prepared for this ``phase``, ``size``, ``spacing``.

    Raises:
        OodcalibError: It was prepared for other values (one line naming them).
    """
    meta = pack_info(path)
    wanted = {"phase": phase, "size": size, "spacing": spacing}
    made = {k: meta.get(k) for k in wanted}
    if made != wanted:
        raise OodcalibError(
            f"{path}: the pack was prepared for {made}, this run needs {wanted}; "
            "make a pack of this preset with `oodcalib pack`"
        )
    return meta
