"""Grouping and order in tables: loss-grid entrants, domain kinds, the kind averages.

Methods and domains are ordered by the ``{name: display name}`` dicts that callers pass
(the registries' order, see :mod:`oodcalib.benchmark.names`); names a dict does not hold
follow in order of first appearance. Metrics' labels come from
:data:`~oodcalib.metrics.METRICS`. The one definition of the artifact average is
:func:`with_kind_averages`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from oodcalib.benchmark.layout import CALIBRATION, CLEAN, ENTRANT_SEP, LGE
from oodcalib.benchmark.names import ARTIFACT_AVG, AVG_SUFFIX, average_name
from oodcalib.benchmark.reporting.dataset_metrics import DATASET_METRICS
from oodcalib.metrics import METRICS


def is_grid(results: pd.DataFrame) -> bool:
    """Whether the results cross several training losses (a loss grid)."""
    return "loss" in results.columns and results["loss"].nunique() > 1


def as_entrants(results: pd.DataFrame) -> pd.DataFrame:
    """The results with one compared entrant per ``method``: ``loss/method`` in a grid.

    Tables and tests compare the values of the ``method`` column. In a loss grid the
    entrants are the (loss, method) pairs, so their names become ``<loss>/<method>``; a
    single-loss run keeps its method names. :func:`split_entrants` undoes it in tables.

    Example:
        >>> df = pd.DataFrame({"loss": ["ce", "nacl"], "method": "ts", "value": [1, 2]})
        >>> as_entrants(df)["method"].tolist()
        ['ce/ts', 'nacl/ts']
    """
    if not is_grid(results) or results["method"].astype(str).str.contains(ENTRANT_SEP).any():
        return results
    return results.assign(
        method=results["loss"].astype(str) + ENTRANT_SEP + results["method"].astype(str)
    )


def split_entrants(table: pd.DataFrame) -> pd.DataFrame:
    """A table keyed by entrant (``method``) with ``loss`` and ``method`` split apart.

    Entrants without a loss part (a single-loss run) are left as they are.

    Example:
        >>> split_entrants(pd.DataFrame({"method": ["ce/ts", "nacl/uc"]})).values.tolist()
        [['ce', 'ts'], ['nacl', 'uc']]
    """
    entrants = table["method"].astype(str)
    if not entrants.str.contains(ENTRANT_SEP).any():
        return table
    parts = entrants.str.split(ENTRANT_SEP, n=1, expand=True)
    out = table.assign(method=parts[1].to_numpy())
    out.insert(list(out.columns).index("method"), "loss", parts[0].to_numpy())
    return out


def reference_entrant(results: pd.DataFrame, reference: str | None = None) -> str:
    """The entrant the others are tested against.

    Default: LTS (the paper's reference), or in a loss grid Dice+CE with UC (the first
    loss if the grid has no ``dice_ce``). In a grid, a bare method name means that method
    on the default loss, and ``loss/method`` names any pair.

    Example:
        >>> grid = pd.DataFrame({"loss": ["ce", "dice_ce"], "method": "uc"})
        >>> reference_entrant(grid), reference_entrant(grid, "ts"), reference_entrant(grid,
        ...     "ce/ts"), reference_entrant(grid.head(1), None)
        ('dice_ce/uc', 'dice_ce/ts', 'ce/ts', 'lts')
    """
    if not is_grid(results):
        return reference or "lts"
    if reference and ENTRANT_SEP in reference:
        return reference
    losses = list(dict.fromkeys(results["loss"].astype(str)))
    loss = "dice_ce" if "dice_ce" in losses else losses[0]
    return f"{loss}{ENTRANT_SEP}{reference or 'uc'}"


def domain_kind(domain: str, kinds: Mapping[str, str] | None = None) -> str | None:
    """The kind of a test domain (``artifact``, ``sequence``, ``vendor``, ...), or None.

    ``kinds`` is the run's ``{domain: kind}``
    (:func:`~oodcalib.benchmark.names.domain_kinds`); a domain it does not
    hold has no kind. Without ``kinds``, the fixed domains' rule applies: ``lge`` is a
    sequence shift and every other domain but clean an artifact. Clean, the calibration
    scans and the averages have no kind.

    Example:
        >>> [domain_kind(d) for d in ("clean", "motion", "lge", "artifact avg")]
        [None, 'artifact', 'sequence', None]
        >>> domain_kind("mnms", {"mnms": "vendor"}), domain_kind("motion", {"mnms": "vendor"})
        ('vendor', None)
    """
    if domain in (CLEAN, CALIBRATION) or domain.endswith(AVG_SUFFIX):
        return None
    if kinds is not None:
        return kinds.get(domain)
    return "sequence" if domain == LGE else "artifact"


def is_artifact(domain: str, kinds: Mapping[str, str] | None = None) -> bool:
    """Whether a test domain is a simulated artifact (:func:`domain_kind`).

    Example:
        >>> [is_artifact(d) for d in ("clean", "motion", "lge", "artifact avg")]
        [False, True, False, False]
    """
    return domain_kind(domain, kinds) == "artifact"


def kind_members(
    domains: Sequence[str], kinds: Mapping[str, str] | None = None
) -> dict[str, list[str]]:
    """``{average name: its domains}`` for every kind that gets an average.

    The artifact kind always does (the paper's Artifact avg); other kinds do from two
    domains on, so a single vendor domain is not repeated as its own average.

    Example:
        >>> kind_members(["clean", "motion", "lge", "a", "b"], {"motion": "artifact",
        ...     "lge": "sequence", "a": "vendor", "b": "vendor"})
        {'artifact avg': ['motion'], 'vendor avg': ['a', 'b']}
    """
    groups: dict[str, list[str]] = {}
    for domain in dict.fromkeys(domains):
        kind = domain_kind(domain, kinds)
        if kind is not None:
            groups.setdefault(kind, []).append(domain)
    return {average_name(k): v for k, v in groups.items() if k == "artifact" or len(v) > 1}


def ordered(
    values: Sequence[str], order: Sequence[str] | Mapping[str, str] | None = None
) -> list[str]:
    """Distinct ``values`` in ``order``; the others follow in order of first appearance.

    Example:
        >>> ordered(["ts", "mine", "uc", "ts"], {"uc": "UC", "ts": "TS"})
        ['uc', 'ts', 'mine']
    """
    order = list(order or [])
    seen = list(dict.fromkeys(values))
    return [v for v in order if v in seen] + [v for v in seen if v not in order]


def ordered_domains(
    domains: Sequence[str],
    order: Sequence[str] | Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
) -> list[str]:
    """Domains in table order, each kind's average right after the last domain of its kind.

    Example:
        >>> ordered_domains(["vendor avg", "a", "clean", "b", "lge"], ["clean", "lge"],
        ...                 {"a": "vendor", "b": "vendor", "lge": "sequence"})
        ['clean', 'lge', 'a', 'b', 'vendor avg']
    """
    plain = ordered([d for d in domains if not d.endswith(AVG_SUFFIX)], order)
    for average in [d for d in dict.fromkeys(domains) if d.endswith(AVG_SUFFIX)]:
        kind = average[: -len(AVG_SUFFIX)]
        last = max(
            (i for i, d in enumerate(plain) if domain_kind(d, kinds) == kind),
            default=len(plain) - 1,
        )
        plain.insert(last + 1, average)
    return plain


def metric_label(metric: str) -> str:
    """Display name of a metric (``ece`` -> ``ECE``), from the metric registry."""
    if metric in METRICS:
        return METRICS[metric].display_name
    return DATASET_METRICS.get(metric, metric.upper())


def with_kind_averages(frame: pd.DataFrame, kinds: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Append each kind's average pseudo-domain (``artifact avg``, ``vendor avg``, ...).

    A unit is one combination of every column but ``domain`` and ``value`` (for
    ``results.csv``: method, metric, fold, repeat, case). The artifacts are corrupted
    copies of the clean test scans, so a unit's artifact average is its mean over the
    artifact domains, for the units present in all of them; so is another kind's whose
    domains hold the same case ids. A kind whose domains hold different scans (two
    vendors, two sequences) pools them: each (domain, case) is a unit of the average,
    its case named ``domain/case``. So an
    ``artifact avg`` never mixes in a vendor or sequence shift. Which kinds get an
    average: :func:`kind_members`. Summary, statistics and ablation tables all use this
    one definition.

    Example:
        >>> df = pd.DataFrame({"method": "uc", "case": ["a", "a", "a", "b"],
        ...     "domain": ["clean", "motion", "spike", "motion"], "value": [.1, .2, .4, .3]})
        >>> with_kind_averages(df).tail(1)[["case", "domain", "value"]].values.tolist()
        [['a', 'artifact avg', 0.30000000000000004]]
        >>> two = pd.DataFrame({"method": "uc", "case": ["p1", "p2", "q1"],
        ...     "domain": ["v1", "v1", "v2"], "value": [.1, .2, .6]})
        >>> out = with_kind_averages(two, {"v1": "vendor", "v2": "vendor"}).tail(3)
        >>> out["case"].tolist(), round(float(out["value"].mean()), 3)
        (['v1/p1', 'v1/p2', 'v2/q1'], 0.3)
    """
    averages = kind_members(list(frame["domain"].unique()), kinds)
    if not averages:
        return frame
    unit = [c for c in frame.columns if c not in ("domain", "value")]
    parts = [frame]
    for name, members in averages.items():
        rows = frame[frame["domain"].isin(members)]
        scans = (
            [frozenset(rows.loc[rows["domain"] == d, "case"]) for d in members]
            if "case" in rows.columns
            else []
        )
        if name != ARTIFACT_AVG and len(set(scans)) > 1:  # different scans: pooled
            parts.append(
                rows.assign(
                    case=rows["domain"].astype(str) + "/" + rows["case"].astype(str), domain=name
                )
            )
            continue
        wide = rows.pivot_table(index=unit, columns="domain", values="value")
        average = wide.dropna(how="any").mean(axis=1).rename("value").reset_index()
        parts.append(average.assign(domain=name)[frame.columns])
    return pd.concat(parts, ignore_index=True)
