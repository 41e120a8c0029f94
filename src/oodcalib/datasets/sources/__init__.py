"""Data sources: each builds its list of raw :class:`~oodcalib.datasets.case.Case` from the config.

:data:`SOURCES` maps the name given to ``--data`` to a ``from_config(data, seed) -> list[Case]``
function: it takes the run's ``data`` section (:class:`~oodcalib.config.DataConfig`) and
the run's seed (sources that draw cases use it). Add a source from a plugin file with
``SOURCES["mine"] = my_from_config``.
"""

from __future__ import annotations

from collections.abc import Callable

from oodcalib.config import DataConfig
from oodcalib.datasets.case import Case
from oodcalib.datasets.sources import acdc, mscmr_lge, nifti, pack, phantom
from oodcalib.errors import lookup
from oodcalib.plugins import declare_registry, plugin_call

#: Registry: data source name -> ``from_config(data, seed) -> list[Case]``.
SOURCES: dict[str, Callable[[DataConfig, int], list[Case]]] = {
    "phantom": phantom.from_config,
    "acdc": acdc.from_config,
    "mscmr_lge": mscmr_lge.from_config,
    "nifti": nifti.from_config,
    "pack": pack.from_config,
}
declare_registry("SOURCES", SOURCES)  # a plugin replaces one by OVERRIDE


def load_source(data: DataConfig, seed: int = 0) -> list[Case]:
    """Raw cases of the source ``data.source`` (unknown: lists the valid), seeded by ``seed``."""
    from_config = lookup(SOURCES, data.source, "data source")
    with plugin_call(from_config, f"data source {data.source!r}"):
        return from_config(data, seed)
