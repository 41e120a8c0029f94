"""The protocol with a network oodcalib did not train (``--model KIND:SPEC``).

The foreign network takes the built-in U-Net's place and nothing else changes: no
training, the folds are the user's networks (one ``--model`` each), every fold
calibrates on the patients the user names (``data.calibration``), and the calibrators,
repeats, domains, metrics and reports are the built-in run's. The network's sidecar sets
the input grid and normalisation (``data.size``, ``data.spacing``, ``data.input_size``,
``data.normalisation``), so the run's ``config.json`` records them with the networks.

A kind without forward passes (``predictions:``) cannot run what needs the network:
Alea. and Proposed (augmented test-time passes) and the artifact domains (corrupted
copies of the scans) are left out, and LTS trains on the stored calibration logits
without augmentation; :func:`configure_networks` returns one line saying each.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from oodcalib.baselines import CALIBRATORS
from oodcalib.config import Config, absolute_path, set_value, validate_config
from oodcalib.datasets import Case
from oodcalib.errors import DataError, OodcalibError, lookup
from oodcalib.segmentation.acceleration import Placement
from oodcalib.segmentation.networks import Grid, get_network, resolve_model

#: Saved logits of a scan: ``(domain, case) -> (Z, 4, H, W)``.
SavedLogits = Callable[[str, Case], np.ndarray]


def configure_networks(
    config: Config, models: list[str], calibration: str | None = None
) -> list[str]:
    """Set ``config`` for foreign networks, checking each one before any work.

    Args:
        config: The run's configuration (changed in place).
        models: ``KIND:SPEC`` per fold.
        calibration: The calibration patients (a patient list or a split file).

    Returns:
        One line per part of the protocol the networks cannot run, saying why.

    Raises:
        OodcalibError: Mixed kinds, folds declaring different grids, no calibration
            patients, or a network that fails its check (naming the file).
    """
    specs = [resolve_model(m) for m in models]
    networks = [get_network(s) for s in specs]
    kinds = sorted({n.kind for n in networks})
    if len(kinds) > 1:
        raise OodcalibError(f"--model: the folds of a run are of one kind, got {', '.join(kinds)}")
    declarations = [n.declaration() for n in networks]
    for other in declarations[1:]:
        if other.grid != declarations[0].grid:
            raise DataError(
                other.path,
                f"declares the grid {other.grid}, another than {declarations[0].path}'s "
                f"{declarations[0].grid}; the folds of a run share one grid",
            )
    for key, value in declarations[0].grid.items():
        set_value(config, key, value)
    config.model.networks, config.data.n_folds = specs, len(specs)
    if calibration:
        config.data.calibration = absolute_path(calibration)
    if not config.data.calibration:
        raise OodcalibError(
            "--model needs the calibration patients: --calibration FILE (a patient list, "
            "one id a line, or a split file like a run's splits.json)"
        )
    notes = [] if networks[0].forward_passes else _without_forward_passes(config, networks[0].kind)
    validated = validate_config(config)
    grid = network_grid(validated)
    for network in networks:
        network.module(grid)  # loads and probes it: a bad file stops here
    return notes


def _without_forward_passes(config: Config, kind: str) -> list[str]:
    """Drop what needs forward passes of the network; one line per change."""
    notes = []
    passes = [m for m in config.eval.methods if lookup(CALIBRATORS, m, "method").test_time_passes]
    if passes:
        config.eval.methods = [m for m in config.eval.methods if m not in passes]
        notes.append(
            f"skipped {', '.join(passes)}: they average augmented forward passes of the "
            f"network, which {kind}: does not have"
        )
    if config.eval.corruptions:
        notes.append(
            f"skipped the artifact domains ({', '.join(config.eval.corruptions)}): they are "
            f"corrupted copies of the scans that the network must see; {kind}: scores the "
            "calibration scans and the domains whose maps are given"
        )
        config.eval.corruptions = []
    for method in config.eval.methods:
        if "augment" in lookup(CALIBRATORS, method, "method").hyperparameter_names():
            set_value(config, f"calib.{method}.augment", False)
            notes.append(
                f"{method} trains on the stored calibration logits without augmentation "
                "(augmented slices need the network)"
            )
    return notes


def network_grid(config: Config) -> Grid:
    """The run's network grid."""
    d = config.data
    return Grid(d.size, d.spacing, d.input_size)


def open_network(
    config: Config, fold: int, place: Placement
) -> tuple[torch.nn.Module, SavedLogits | None]:
    """Fold ``fold``'s network, placed, and its saved logits (None: run the module)."""
    network = get_network(config.model.networks[fold])
    grid = network_grid(config)
    model = network.module(grid).to(place.device).eval()  # float32: no autocast levers
    if network.forward_passes:
        return model, None

    def saved(domain: str, case: Case) -> np.ndarray:
        logits = network.logits(domain, case, grid)
        if logits is None:
            raise OodcalibError(f"{network}: holds no saved logits of {domain}/{case.case_id}")
        return logits

    return model, saved


def check_saved_outputs(config: Config, folds: list[dict], domains: dict[str, list[Case]]) -> None:
    """Refuse, before any work, saved outputs that lack a scan (naming the first file).

    Args:
        config: The run's configuration.
        folds: The run's folds (``splits.json``), with their calibration case ids.
        domains: Every test domain's cases.
    """
    for fold in folds:
        network = get_network(config.model.networks[fold["fold"]])
        wanted = {"val": fold["val"], **{d: [c.case_id for c in cs] for d, cs in domains.items()}}
        for domain, ids in wanted.items():
            missing = network.missing(domain, ids)
            if missing:
                raise DataError(
                    missing[0],
                    f"missing scan: {len(missing)} of the {len(ids)} {domain} scans of "
                    f"{network} have no probability map",
                )
