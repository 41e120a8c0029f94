"""Extra test domains of a run (``eval.domains``): loaded, checked, cached and named.

Each domain given with ``--domain NAME=SPEC`` (:mod:`oodcalib.datasets.domain_spec`) is
loaded from its own source, checked for swapped labels, resampled and cropped like the
source, stripped of excluded patients, checked for scans that trained or calibrated a net
(the leak check, :mod:`~oodcalib.datasets.leakage`), capped at ``data.max_test_cases`` and
normalised.
The result is cached in ``run_dir/domains/<name>/prepared.joblib`` beside the spec it
came from (``spec.json``); a changed spec reloads it. The scores of a domain are written
per cell beside the built-in ones, as ``per_case/<method>_r<repeat>@<name>.csv``.
"""

from __future__ import annotations

from pathlib import Path

import joblib

from oodcalib.atomic import atomic_write
from oodcalib.benchmark.layout import CALIBRATION, CLEAN, LGE
from oodcalib.config import Config, DataConfig
from oodcalib.config.rules import check_file_names
from oodcalib.datasets import Case
from oodcalib.datasets.domain_spec import (
    check_domain,
    domain_config,
    load_domain,
    spec_stamp,
)
from oodcalib.datasets.leakage import check_test_scans
from oodcalib.datasets.plausibility import check_plausible
from oodcalib.datasets.preprocessing import prepare_case
from oodcalib.datasets.splits import patient_ids
from oodcalib.errors import OodcalibError, lookup


def reserved_names(config: Config) -> tuple[str, ...]:
    """Domain names a ``--domain`` may not take: the built-in domains of the run."""
    return (CLEAN, CALIBRATION, LGE, *config.eval.corruptions)


def check_domains(config: Config) -> None:
    """Check every ``eval.domains`` spec, and the file names its domain gives.

    Each spec's name, keys, kind, values and source name; then that the names leave the
    run's file names short enough to be written.
    """
    from oodcalib.datasets import SOURCES

    for name, spec in config.eval.domains.items():
        check_domain(name, spec, reserved_names(config))
        lookup(SOURCES, spec["source"], f"data source of eval.domains.{name}")
    check_file_names(config)


def training_patients(config: Config, splits: dict) -> set[str]:
    """Patients of the source whose scans trained or calibrated a net (any fold)."""
    ids = [c for fold in splits["folds"] for c in fold["train"] + fold["val"]]
    every = [*ids, *splits["pools"]["test"]]
    return {patient_ids(every, config.data.patient_pattern)[c] for c in ids}


def load_test_domain(
    config: Config,
    run_dir: Path,
    name: str,
    splits: dict,
    normalise,
    trained: dict[str, str] | None = None,
) -> list[Case]:
    """The normalised cases of extra domain ``name``, from its cache when the spec matches.

    Args:
        config: The run's configuration (``eval.domains[name]`` is the spec).
        run_dir: The run directory.
        name: The domain's name.
        splits: The run's splits (for ``exclude_patients=train``).
        normalise: ``normalise(case)`` of the run data (the network input).
        trained: ``{digest: description}`` of the source scans that trained or
            calibrated a net (:func:`~oodcalib.datasets.leakage.trained_scans`): a domain
            holding one of them, once ``exclude_patients`` is applied, is refused.
    """
    spec = config.eval.domains[name]
    folder = Path(run_dir) / "domains" / name
    stamp = spec_stamp(spec)
    cache, spec_path = folder / "prepared.joblib", folder / "spec.json"
    if cache.exists() and spec_path.exists() and spec_path.read_text() == stamp:
        return joblib.load(cache)
    d = config.data
    local = domain_config(d, name, spec)
    raw = load_domain(d, name, spec, config.seed)
    check_plausible(raw, f"test domain {name!r}", local.label_map, d.strict_labels)
    cases = [prepare_case(c, d.size, d.spacing, d.input_size) for c in raw]
    cases = _exclude(cases, spec, name, training_patients(config, splits), local)
    if not cases:
        raise OodcalibError(f"eval.domains.{name}: no case left to test after exclude_patients")
    if trained:
        hint = (
            f"; drop it with eval.domains.{name}.exclude_patients (train, with a "
            "patient_pattern, or a list of ids)"
        )
        check_test_scans(cases, trained, name, hint)
    cases = [normalise(c) for c in cases[: d.max_test_cases]]
    atomic_write(cache, lambda f: joblib.dump(cases, f))
    atomic_write(spec_path, lambda f: f.write(stamp.encode()))
    return cases


def _exclude(
    cases: list[Case], spec: dict, name: str, trained: set[str], local: DataConfig
) -> list[Case]:
    exclude = spec.get("exclude_patients")
    if not exclude:
        return cases
    drop = trained if exclude == "train" else {str(p) for p in exclude}
    try:
        patients = patient_ids([c.case_id for c in cases], local.patient_pattern)
    except OodcalibError as error:
        raise OodcalibError(f"eval.domains.{name}.patient_pattern: {error}") from None
    return [c for c in cases if patients[c.case_id] not in drop]
