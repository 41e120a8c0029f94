"""On-disk cache of corrupted cases, keyed by corruption, severity, seed and case id.

Layout: ``root/{name}-s{severity}-seed{seed}/{case_id}.npz`` (arrays ``image``, ``label``
when the case has one, and ``input_checksum``) next to ``{case_id}.json`` (the corruption
record of ``meta["corruption"]``, the input shape and the input checksum). Both files are
written to a temporary file and moved in place with :func:`os.replace`, the JSON last, so
a reader never sees a half-written entry. An entry is used only when the current input
image has the stored shape and checksum, the case's label equals the stored one and the
two files agree; otherwise the case is recomputed and the entry overwritten.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from oodcalib.atomic import atomic_write
from oodcalib.corruptions.artifacts import corrupt_case, get_corruption
from oodcalib.corruptions.severity import check_severity
from oodcalib.datasets.case import Case
from oodcalib.errors import DataError

FORMAT_VERSION = 2


def image_checksum(image: np.ndarray) -> str:
    """BLAKE2b digest of an array's dtype, shape and bytes.

    Example:
        >>> image_checksum(np.zeros((2, 2))) == image_checksum(np.zeros((2, 2)))
        True
        >>> image_checksum(np.zeros((2, 2))) == image_checksum(np.zeros((4,)))
        False
    """
    array = np.ascontiguousarray(image)
    digest = hashlib.blake2b(f"{array.dtype.str}{array.shape}".encode(), digest_size=16)
    digest.update(array.tobytes())
    return digest.hexdigest()


class CorruptionCache:
    """Compute each corrupted case once and reload it afterwards.

    Args:
        root: Cache folder (created on first write).

    Example:
        >>> import tempfile
        >>> c = Case("p1", np.random.default_rng(0).random((2, 8, 8)), None, "clean")
        >>> cache = CorruptionCache(Path(tempfile.mkdtemp()))
        >>> first = cache.get(c, "spike", severity=3, seed=0)
        >>> bool(np.array_equal(first.image, cache.get(c, "spike", 3, 0).image))
        True
    """

    def __init__(self, root: Path):
        self.root = Path(root)

    def paths(self, case_id: str, name: str, severity: int, seed: int) -> tuple[Path, Path]:
        """The ``.npz`` and ``.json`` paths of one entry."""
        if not case_id or any(sep in case_id for sep in ("/", "\\")) or case_id in {".", ".."}:
            raise DataError(case_id or "<empty case id>", "case id cannot name a cache file")
        folder = self.root / f"{name}-s{severity}-seed{seed}"
        return folder / f"{case_id}.npz", folder / f"{case_id}.json"

    def get(self, case: Case, name: str, severity: int, seed: int) -> Case:
        """Return the corrupted case from the cache, computing and storing it if needed.

        Args:
            case: The clean case.
            name: Corruption name.
            severity: Level in 1..5.
            seed: Base seed (see :func:`~oodcalib.corruptions.corrupt_case`).

        Returns:
            The same case as ``corrupt_case(case, name, severity, seed)``.
        """
        name = get_corruption(name).name
        severity = check_severity(severity)
        npz_path, json_path = self.paths(case.case_id, name, severity, seed)
        checksum = image_checksum(case.image)
        cached = self._load(case, npz_path, json_path, checksum)
        if cached is not None:
            return cached
        out = corrupt_case(case, name, severity, seed)
        self._store(out, npz_path, json_path, checksum, list(np.shape(case.image)))
        return out

    @staticmethod
    def _load(case: Case, npz_path: Path, json_path: Path, checksum: str) -> Case | None:
        try:
            record = json.loads(json_path.read_text())
            if (
                record.get("format_version") != FORMAT_VERSION
                or record.get("input_shape") != list(np.shape(case.image))
                or record.get("input_checksum") != checksum
            ):
                return None
            with np.load(npz_path, allow_pickle=False) as data:
                if str(data["input_checksum"]) != checksum:
                    return None  # npz and json from different writes
                image = data["image"]
                label = data["label"] if "label" in data.files else None
        except FileNotFoundError:
            return None  # absent entry: compute
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
            import warnings

            warnings.warn(
                f"{npz_path}: damaged corrupted volume ({type(error).__name__}); it is recomputed",
                UserWarning,
                stacklevel=3,
            )
            return None
        if (label is None) != (case.label is None) or (
            label is not None and case.label is not None and not np.array_equal(label, case.label)
        ):
            return None  # the case was relabelled since
        meta = {**case.meta, "corruption": record["corruption"]}
        return replace(
            case, image=image, label=label, domain=record["corruption"]["name"], meta=meta
        )

    @staticmethod
    def _store(out: Case, npz_path: Path, json_path: Path, checksum: str, shape: list) -> None:
        npz_path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"image": out.image, "input_checksum": np.array(checksum)}
        if out.label is not None:
            arrays["label"] = out.label
        # numpy's stub types **kwds as savez's allow_pickle: bool
        atomic_write(npz_path, lambda handle: np.savez(handle, **arrays))  # type: ignore[arg-type]
        record = {
            "format_version": FORMAT_VERSION,
            "case_id": out.case_id,
            "input_shape": shape,
            "input_checksum": checksum,
            "corruption": out.meta["corruption"],
        }
        text = json.dumps(record, indent=1).encode()
        atomic_write(json_path, lambda handle: handle.write(text))
