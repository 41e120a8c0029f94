"""Assembling the data of a run: the source domain split into folds and the test domains.

Test domains are ``clean`` (the test patients), one domain per corruption of the test
patients, and ``lge`` (cross-sequence). Every domain goes through the same final step,
:func:`~oodcalib.datasets.preprocessing.robust_normalise`, just before the network.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import joblib

from oodcalib.atomic import atomic_write, read_cache
from oodcalib.benchmark.layout import CLEAN, LGE, prepared_path
from oodcalib.benchmark.protocol.domains import load_test_domain
from oodcalib.config import Config
from oodcalib.corruptions import CorruptionCache
from oodcalib.datasets import Case, load_mscmr_lge, load_phantom, load_source
from oodcalib.datasets.calibration_split import calibration_splits
from oodcalib.datasets.intensity import normalise_case
from oodcalib.datasets.leakage import (
    check_splits,
    check_test_scans,
    scan_digests,
    source_patients,
    trained_scans,
    twin_scans,
)
from oodcalib.datasets.plausibility import check_plausible
from oodcalib.datasets.preprocessing import prepare_case
from oodcalib.datasets.splits import make_splits, read_splits, write_splits
from oodcalib.errors import OodcalibError
from oodcalib.plugins import load_plugins
from oodcalib.progress import progress


@dataclass
class RunData:
    """Normalised cases of one run: source cases by id and test domains."""

    source: dict[str, Case]
    splits: dict
    test_domains: dict[str, list[Case]]
    #: The extra test domains (``eval.domains``), each scored in files of its own
    extra_domains: dict[str, list[Case]] = field(default_factory=dict)
    #: ``{case id: digest}`` of the prepared source scans (:mod:`~oodcalib.datasets.leakage`;
    #: None in a cache written before the leak check, whose test domains were loaded then)
    digests: dict[str, str] | None = None

    def cases(self, ids: list[str]) -> list[Case]:
        """Source cases in the given order."""
        return [self.source[i] for i in ids]


def normalise(case: Case, method: str = "robust") -> Case:
    """The network input: the prepared (and maybe corrupted) image, normalised.

    ``method`` is the run's ``data.normalisation`` (:mod:`oodcalib.datasets.intensity`):
    ``robust`` (percentiles scaled to [0, 1]) for the built-in U-Net.
    """
    return normalise_case(case, method)


def load_run_config(run_dir: Path) -> Config:
    """The configuration of a finished (or partial) run, its plugins imported.

    Raises:
        OodcalibError: If ``run_dir`` has no ``config.json``.
    """
    config_path = Path(run_dir) / "config.json"
    if not config_path.exists():
        raise OodcalibError(f"{config_path}: missing; is {run_dir} a run directory?")
    config = Config.load(config_path)
    load_plugins(config.plugins)
    return config


def load_lge(config: Config) -> list[Case]:
    """Raw cases of the cross-sequence domain: MS-CMRSeg LGE, or the LGE phantom."""
    d = config.data
    if d.lge_root:
        return load_mscmr_lge(d.lge_root)
    if d.source != "phantom":
        warnings.warn(
            "no --lge-root given: the cross-sequence domain uses the LGE phantom", stacklevel=2
        )
    return load_phantom(
        d.lge_phantom_cases, seed=config.seed, contrast="lge", size=d.size, spacing=d.spacing
    )


def load_splits(
    config: Config, run_dir: Path, case_ids: list[str], digests: dict[str, str] | None = None
) -> dict:
    """The run's splits: read from ``splits.json``, or made (:func:`load_run_data` writes them).

    Patients are found by ``data.patient_pattern``, and scans of one image (``digests``)
    are one patient (:func:`~oodcalib.datasets.leakage.source_patients`): made splits keep
    them together, and read ones that part them are refused (the leak check).
    """
    d = config.data
    split_path = run_dir / "splits.json"
    patient_of = source_patients(case_ids, d.patient_pattern, digests)
    twins = twin_scans(digests or {})
    if split_path.exists():
        splits = read_splits(split_path)
        missing = sorted(
            {i for f in splits["folds"] for i in f["train"] + f["val"]}.union(
                splits["pools"]["test"]
            )
            - set(case_ids)
        )
        if missing:
            raise OodcalibError(f"{split_path}: cases not in the data: {', '.join(missing[:5])}")
        check_splits(splits, patient_of, str(split_path), twins)
        return splits
    if config.model.networks:  # foreign networks: the user names the calibration patients
        if not d.calibration:
            raise OodcalibError("--model needs the calibration patients: --calibration FILE")
        return calibration_splits(d.calibration, case_ids, d.n_folds, d.patient_pattern)
    splits = make_splits(
        case_ids,
        seed=config.seed,
        n_folds=d.n_folds,
        train_per_fold=d.train_per_fold,
        val_per_fold=d.val_per_fold,
        fractions=tuple(d.split_fractions),
        patients=patient_of,
    )
    check_splits(splits, patient_of, f"the splits of seed {config.seed}", twins)
    return splits


def load_run_data(config: Config, run_dir: Path) -> RunData:
    """Load, prepare, split and corrupt everything a run needs.

    The splits are read from ``run_dir/splits.json`` when present (so every job and every
    rerun uses the same patients) and written there otherwise. Corrupted test cases are
    cached under ``run_dir/corrupted``, and the whole prepared data in
    ``run_dir/prepared.joblib``, so later commands on the run (``ablate``, ``figures``, a
    resumed ``run``) skip reading and resampling the scans again (20 s for ACDC + LGE).
    The run's ``config.json`` pins the settings it was made with. The extra test
    domains (``eval.domains``) are cached apart, in ``run_dir/domains/<name>/``
    (:mod:`~oodcalib.benchmark.protocol.domains`), so a finished run can gain one.
    """
    split_path = run_dir / "splits.json"
    if split_path.exists():
        read_splits(split_path)  # the record is checked even when the data are cached
    cache = prepared_path(run_dir)
    data = read_cache(cache, joblib.load, "prepared data")
    if data is None:
        data = _prepare_run_data(config, run_dir)
    elif split_path.exists():  # the leak check of the record, the data cached
        patient_of = source_patients(data.source, config.data.patient_pattern, data.digests)
        twins = twin_scans(data.digests or {})
        check_splits(read_splits(split_path), patient_of, str(split_path), twins)
    trained = trained_scans(data.digests, data.splits) if data.digests else None
    data.extra_domains = {
        name: load_test_domain(
            config,
            run_dir,
            name,
            data.splits,
            partial(normalise, method=config.data.normalisation),
            trained,
        )
        for name in config.eval.domains
    }
    if not cache.exists():
        if not (run_dir / "splits.json").exists():  # written once everything loaded
            write_splits(data.splits, run_dir / "splits.json")
        core = RunData(data.source, data.splits, data.test_domains, digests=data.digests)
        atomic_write(cache, lambda f: joblib.dump(core, f))
    return data


def prepared_source(
    config: Config, run_dir: Path, check: bool = True
) -> tuple[dict[str, Case], dict, list[Case]]:
    """The source cases prepared (not normalised), the splits, the clean tests.

    Prepared means resampled, cropped and resized to the network input
    (:func:`~oodcalib.datasets.preprocessing.prepare_case`); the clean test scans come as
    the corruptions see them: on the network's grid, before normalisation. Scans of one
    image (under two case ids) are one patient, with a warning, and splits that put a
    patient on both sides are refused (:mod:`~oodcalib.datasets.leakage`).
    """
    source, splits, clean, _ = _prepared_source(config, run_dir, check)
    return source, splits, clean


def _prepared_source(
    config: Config, run_dir: Path, check: bool
) -> tuple[dict[str, Case], dict, list[Case], dict[str, str]]:
    d = config.data
    raw = load_source(d, config.seed)
    if check:
        check_plausible(raw, f"the {d.source} source", d.label_map, d.strict_labels)
    prepared = [prepare_case(c, d.size, d.spacing, d.input_size) for c in raw]
    digests = scan_digests(prepared, f"the {d.source} source")  # warns of scans found twice
    source = {c.case_id: c for c in prepared}
    splits = load_splits(config, run_dir, list(source), digests)
    test_ids = splits["pools"]["test"][: d.max_test_cases]
    return source, splits, [source[i] for i in test_ids], digests


def _prepare_run_data(config: Config, run_dir: Path) -> RunData:
    d = config.data
    source, splits, clean, digests = _prepared_source(config, run_dir, True)
    domains = {CLEAN: clean}
    cache = CorruptionCache(run_dir / "corrupted")
    for name in config.eval.corruptions:
        domains[name] = [
            cache.get(case, name, config.eval.severity, config.seed)
            for case in progress(domains[CLEAN], desc=f"corrupt {name}")
        ]
    if config.eval.cross_sequence:
        raw_lge = load_lge(config)
        check_plausible(raw_lge, "the cross-sequence (LGE) domain", d.label_map, d.strict_labels)
        lge = [prepare_case(c, d.size, d.spacing, d.input_size) for c in raw_lge]
        check_test_scans(lge, trained_scans(digests, splits), LGE, _LGE_HINT)
        domains[LGE] = lge[: d.max_test_cases]
    method = config.data.normalisation
    normalised = {k: [normalise(c, method) for c in v] for k, v in domains.items()}
    source_cases = {k: normalise(v, method) for k, v in source.items()}
    return RunData(source_cases, splits, normalised, digests=digests)


_LGE_HINT = "; give --lge-root a data set other than the training source"
