"""Display names and table order of a run's methods and domains, read from the registries.

Reporting is torch-free and never imports the registries that need torch; the CLI
passes it these plain dicts.
"""

from __future__ import annotations

from oodcalib.baselines import display_names
from oodcalib.benchmark.protocol.layout import CLEAN, DOMAIN_HEADERS, LGE
from oodcalib.config import Config
from oodcalib.corruptions import CORRUPTIONS


def method_names() -> dict[str, str]:
    """``{method: display name}`` of every registered calibrator, in table order."""
    return display_names()


def domain_names(config: Config | None = None) -> dict[str, str]:
    """``{domain: header}`` in table order: clean, the artifacts, then LGE.

    Args:
        config: The run's configuration; its ``eval.corruptions`` give the artifacts
            (default: every registered corruption).

    Example:
        >>> list(domain_names().values())
        ['Intra', 'Bias', 'Motion', 'Ghost', 'Spike', 'Cross-seq (LGE)']
    """
    artifacts = config.eval.corruptions if config is not None else list(CORRUPTIONS)
    headers = {CLEAN: DOMAIN_HEADERS[CLEAN]}
    for name in artifacts:
        corruption = CORRUPTIONS.get(name)
        headers[name] = (corruption.display_name if corruption else "") or name
    headers[LGE] = DOMAIN_HEADERS[LGE]
    return headers
