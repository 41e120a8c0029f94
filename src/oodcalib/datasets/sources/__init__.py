"""Data sources: each builds its list of raw :class:`~oodcalib.datasets.case.Case` from the config.

:data:`SOURCES` maps the name given to ``--data`` to a ``from_config(config) -> list[Case]``
function. Add a source from a plugin file with ``SOURCES["mine"] = my_from_config``.
"""

from __future__ import annotations

from collections.abc import Callable

from oodcalib.config import Config
from oodcalib.datasets.case import Case
from oodcalib.datasets.sources import acdc, mscmr_lge, nifti, phantom
from oodcalib.errors import lookup

#: Registry: data source name -> ``from_config(config) -> list[Case]``.
SOURCES: dict[str, Callable[[Config], list[Case]]] = {
    "phantom": phantom.from_config,
    "acdc": acdc.from_config,
    "mscmr_lge": mscmr_lge.from_config,
    "nifti": nifti.from_config,
}


def load_source(config: Config) -> list[Case]:
    """Raw cases of the training source ``config.data.source`` (unknown: lists the valid)."""
    return lookup(SOURCES, config.data.source, "data source")(config)
