"""A data pack as a source: ``--data pack --data-root FILE`` (or ``--data pack:FILE``).

The pack (:mod:`~oodcalib.datasets.pack`, written by ``oodcalib pack``) holds the source
cases prepared for one ``phase``, ``size`` and ``spacing``, and usually the LGE domain
(``--lge-root FILE``, set by ``--data pack:FILE``). A run of other values is refused.
"""

from __future__ import annotations

from oodcalib.config import DataConfig
from oodcalib.datasets.case import Case
from oodcalib.datasets.pack import check_pack, read_pack
from oodcalib.errors import OodcalibError


def from_config(data: DataConfig, seed: int = 0) -> list[Case]:
    """The source cases of the pack ``data.root`` (``seed`` unused)."""
    if not data.root:
        raise OodcalibError("data source 'pack' needs --data-root FILE (made by `oodcalib pack`)")
    check_pack(data.root, data.phase, data.size, data.spacing)
    return read_pack(data.root, "source")
