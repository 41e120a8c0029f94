"""Display names of methods, domains and averages, and the fixed domains' headers.

One home for every name a table shows, used by the protocol, the reporting and the CLI.
The registries that hold the calibrators' and corruptions' names need torch, so they
are read inside :func:`method_names` and :func:`domain_names`: importing this module
stays light, and reporting (torch-free) takes the resulting plain dicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from oodcalib.benchmark.layout import CLEAN, ENTRANT_SEP, LGE

if TYPE_CHECKING:
    from oodcalib.config import Config

#: Table headers of the fixed domains (artifact headers come from ``CORRUPTIONS``).
DOMAIN_HEADERS = {CLEAN: "Intra", LGE: "Cross-seq (LGE)"}
#: Suffix of the per-kind average pseudo-domains (``artifact avg``, ``vendor avg``).
AVG_SUFFIX = " avg"
#: Pseudo-domain: per matched unit, the mean over the artifact domains.
ARTIFACT_AVG = "artifact avg"
#: Header of the artifact average in tables.
ARTIFACT_AVG_HEADER = "Artifact avg"


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
    from oodcalib.baselines import display_names

    methods = display_names()
    if config is None or not config.train.losses:
        return methods
    from oodcalib.segmentation.losses import LOSS_NAMES

    losses = {loss: LOSS_NAMES.get(loss, loss) for loss in dict.fromkeys(config.train.losses)}
    return entrant_names(methods, losses)


def domain_names(config: Config | None = None) -> dict[str, str]:
    """``{domain: header}`` in table order: clean, the artifacts, LGE, the extra domains.

    An extra domain is headed by its spec's ``header``, else by its name and kind
    (``mnms (vendor)``), so a column says which shift it measures.

    Args:
        config: The run's configuration; its ``eval.corruptions`` give the artifacts
            (default: every registered corruption).

    Example:
        >>> list(domain_names().values())
        ['Intra', 'Bias', 'Motion', 'Ghost', 'Spike', 'Cross-seq (LGE)']
    """
    from oodcalib.corruptions import CORRUPTIONS

    artifacts = config.eval.corruptions if config is not None else list(CORRUPTIONS)
    headers = {CLEAN: DOMAIN_HEADERS[CLEAN]}
    for name in artifacts:
        corruption = CORRUPTIONS.get(name)
        headers[name] = (corruption.display_name if corruption else "") or name
    headers[LGE] = DOMAIN_HEADERS[LGE]
    if config is not None and config.eval.domains:
        from oodcalib.datasets.domain_spec import domain_kind

        for name, spec in config.eval.domains.items():  # the kind says what shift it is
            headers[name] = spec.get("header") or f"{name} ({domain_kind(spec)})"
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
    from oodcalib.datasets.domain_spec import domain_kind

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
    return {
        **methods,
        **{
            f"{loss}{ENTRANT_SEP}{method}": f"{lname} + {mname}"
            for loss, lname in losses.items()
            for method, mname in methods.items()
        },
    }


def average_name(kind: str) -> str:
    """The pseudo-domain of a kind's average (``artifact avg``)."""
    return f"{kind}{AVG_SUFFIX}"


def average_header(name: str) -> str:
    """Table header of an average pseudo-domain (``Artifact avg``, ``Vendor avg``)."""
    return name[:1].upper() + name[1:]


def domain_headers(domains: Mapping[str, str] | None, shown: Sequence[str]) -> dict[str, str]:
    """``{domain: header}`` with the averages among ``shown`` added (``Artifact avg``)."""
    return {**(domains or {}), **{d: average_header(d) for d in shown if d.endswith(AVG_SUFFIX)}}


def display_name(name: str, names: Mapping[str, str] | None) -> str:
    """``names[name]``, or ``name`` itself."""
    return (names or {}).get(name) or name
