"""Display names and table order of a run's methods and domains, read from the registries.

Reporting is torch-free and never imports the registries that need torch; the CLI
passes it these plain dicts.
"""

from __future__ import annotations

from collections.abc import Mapping

from oodcalib.baselines import display_names
from oodcalib.benchmark.protocol.layout import CLEAN, DOMAIN_HEADERS, ENTRANT_SEP, LGE
from oodcalib.config import Config
from oodcalib.corruptions import CORRUPTIONS
from oodcalib.datasets.domain_spec import domain_kind


def method_names(config: Config | None = None) -> dict[str, str]:
    """``{method: display name}`` of every registered calibrator, in table order.

    For a loss grid, the (loss, method) entrants follow, loss-major in the grid's order
    (:func:`entrant_names`).

    Example:
        >>> from oodcalib.config import build_config
        >>> names = method_names(build_config("quick", ["train.losses=focal,nacl"]))
        >>> names["uc"], names["focal/ts"], list(names)[-1]
        ('UC', 'FL + TS', 'nacl/platt')
    """
    methods = display_names()
    if config is None or not config.train.losses:
        return methods
    from oodcalib.benchmark.protocol.hyperparameters import run_losses
    from oodcalib.benchmark.segmentation.losses import LOSS_NAMES

    losses = {loss: LOSS_NAMES.get(loss, loss) for loss in run_losses(config)}
    return entrant_names(methods, losses)


def domain_names(config: Config | None = None) -> dict[str, str]:
    """``{domain: header}`` in table order: clean, the artifacts, LGE, the extra domains.

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
    for name, spec in (config.eval.domains if config is not None else {}).items():
        headers[name] = spec.get("header") or name
    return headers


def domain_kinds(config: Config | None = None) -> dict[str, str] | None:
    """``{domain: kind}`` of the run's shifted test domains (None: the fixed domains' rule).

    The artifacts are of kind ``artifact``, LGE of kind ``sequence``, each extra domain
    of its spec's kind (:mod:`oodcalib.datasets.domain_spec`).

    Example:
        >>> from oodcalib.config import build_config
        >>> domain_kinds(build_config("smoke", ["eval.corruptions=motion",
        ...     "eval.domains.mnms.source=nifti", "eval.domains.mnms.kind=vendor"]))
        {'motion': 'artifact', 'lge': 'sequence', 'mnms': 'vendor'}
    """
    if config is None:
        return None
    kinds = {name: "artifact" for name in config.eval.corruptions}
    if config.eval.cross_sequence:
        kinds[LGE] = "sequence"
    return {**kinds, **{n: domain_kind(s) for n, s in config.eval.domains.items()}}


def entrant_names(methods: Mapping[str, str], losses: Mapping[str, str]) -> dict[str, str]:
    """Display names of the methods, then of every (loss, method) entrant, loss-major.

    Example:
        >>> entrant_names({"uc": "UC"}, {"ce": "CE", "nacl": "NACL"})
        {'uc': 'UC', 'ce/uc': 'CE + UC', 'nacl/uc': 'NACL + UC'}
    """
    return {**methods, **{f"{loss}{ENTRANT_SEP}{method}": f"{lname} + {mname}"
                          for loss, lname in losses.items() for method, mname in methods.items()}}
