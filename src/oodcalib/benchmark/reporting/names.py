"""Names and orders in tables, and the one definition of the artifact average.

Methods and domains are ordered by the ``{name: display name}`` dicts that callers pass
(the registries' order, see :mod:`oodcalib.benchmark.protocol.display_names`); names a dict does
not hold follow in order of first appearance. Metrics come from
:data:`~oodcalib.benchmark.metrics.METRICS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from oodcalib.benchmark.metrics import METRICS
from oodcalib.benchmark.protocol.layout import CALIBRATION, CLEAN, ENTRANT_SEP, LGE
from oodcalib.benchmark.reporting.dataset_metrics import DATASET_METRICS

#: Pseudo-domain: per matched unit, the mean over the artifact domains.
ARTIFACT_AVG = "artifact avg"
#: Header of the artifact average in tables.
ARTIFACT_AVG_HEADER = "Artifact avg"


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
    return results.assign(method=results["loss"].astype(str) + ENTRANT_SEP
                          + results["method"].astype(str))


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


def is_artifact(domain: str) -> bool:
    """Whether a test domain is a simulated artifact (neither clean, LGE nor calibration).

    Example:
        >>> [is_artifact(d) for d in ("clean", "motion", "lge", "artifact avg")]
        [False, True, False, False]
    """
    return domain not in (CLEAN, LGE, CALIBRATION, ARTIFACT_AVG)


def ordered(values: Sequence[str], order: Sequence[str] | Mapping[str, str] | None = None
            ) -> list[str]:
    """Distinct ``values`` in ``order``; the others follow in order of first appearance.

    Example:
        >>> ordered(["ts", "mine", "uc", "ts"], {"uc": "UC", "ts": "TS"})
        ['uc', 'ts', 'mine']
    """
    order = list(order or [])
    seen = list(dict.fromkeys(values))
    return [v for v in order if v in seen] + [v for v in seen if v not in order]


def ordered_domains(domains: Sequence[str], order: Sequence[str] | Mapping[str, str] | None
                    = None) -> list[str]:
    """Domains in table order, ``artifact avg`` right after the last artifact domain."""
    plain = ordered([d for d in domains if d != ARTIFACT_AVG], order)
    if ARTIFACT_AVG in domains:
        last = max((i for i, d in enumerate(plain) if is_artifact(d)), default=-1)
        plain.insert(last + 1, ARTIFACT_AVG)
    return plain


def display_name(name: str, names: Mapping[str, str] | None) -> str:
    """``names[name]``, or ``name`` itself."""
    return (names or {}).get(name) or name


def metric_label(metric: str) -> str:
    """Display name of a metric (``ece`` -> ``ECE``), from the metric registry."""
    if metric in METRICS:
        return METRICS[metric].display_name
    return DATASET_METRICS.get(metric, metric.upper())


def with_artifact_avg(frame: pd.DataFrame) -> pd.DataFrame:
    """Append the ``artifact avg`` pseudo-domain: per matched unit, the artifacts' mean.

    A unit is one combination of every column but ``domain`` and ``value`` (for
    ``results.csv``: method, metric, fold, repeat, case). Only units with a value in
    every artifact domain of the frame are averaged. Summary, statistics and ablation
    tables all use this one definition.

    Example:
        >>> df = pd.DataFrame({"method": "uc", "case": ["a", "a", "a", "b"],
        ...     "domain": ["clean", "motion", "spike", "motion"], "value": [.1, .2, .4, .3]})
        >>> with_artifact_avg(df).tail(1)[["case", "domain", "value"]].values.tolist()
        [['a', 'artifact avg', 0.30000000000000004]]
    """
    artifacts = [d for d in frame["domain"].unique() if is_artifact(d)]
    if not artifacts:
        return frame
    unit = [c for c in frame.columns if c not in ("domain", "value")]
    wide = frame[frame["domain"].isin(artifacts)].pivot_table(
        index=unit, columns="domain", values="value")
    average = wide.dropna(how="any").mean(axis=1).rename("value").reset_index()
    return pd.concat([frame, average.assign(domain=ARTIFACT_AVG)[frame.columns]],
                     ignore_index=True)
