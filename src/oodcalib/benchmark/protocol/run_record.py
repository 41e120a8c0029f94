"""The run directory's record of its configuration (``config.json``), read on every start.

A run resumes only with the configuration it recorded: :func:`check_config` compares the
two key by key (placements aside; a loss grid may gain losses and a run may gain test
domains, :func:`merged_domains`), :func:`refuse_invalid_record` refuses a record that
fails today's checks, and :func:`resolve_threads` keeps the run's torch thread count.
"""

from __future__ import annotations

import json
from pathlib import Path

from oodcalib.config import PATH_KEYS, Config, absolute_path, validate_config
from oodcalib.datasets.domain_spec import refuse_changed_specs
from oodcalib.errors import DataError, OodcalibError


def check_config(config: Config, run_dir: Path) -> None:
    """Refuse to resume a directory made with another config (``config.json``).

    The caller writes ``config.json`` once the run's data loaded, so a start that fails
    on its data never locks the directory.
    """
    path = run_dir / "config.json"
    new = json.loads(json.dumps(config.to_dict()))
    old = recorded_config(run_dir)
    if old is not None:
        if "plugins" not in old:
            raise OodcalibError(
                f"{path}: this run directory was made by oodcalib 0.1, whose files this "
                "version cannot resume (its fitted calibrators name modules that moved); "
                "use another --out. `oodcalib leaderboard` and `summary` still read it."
            )
        refuse_invalid_record(Config.from_dict(old), run_dir)
        # keys added since then take their defaults
        old = json.loads(json.dumps(Config.from_dict(old).to_dict()))
        for key in PATH_KEYS:  # older runs stored them as typed
            if old["data"].get(key) and new["data"].get(key):
                old["data"][key] = absolute_path(old["data"][key])
                new["data"][key] = absolute_path(new["data"][key])
        ignore = {"n_jobs", "backend"}  # placements; the device kind is checked before
        if not old["train"].get("num_threads"):  # made before the count was recorded
            old["train"]["num_threads"] = new["train"]["num_threads"]
        refuse_changed_specs(old["eval"].get("domains") or {}, new["eval"]["domains"], str(path))
        diff = sorted(_flat(old).items() ^ _flat(new).items())
        keys = sorted(
            {
                k
                for k, _ in diff
                if k.split(".")[-1] not in ignore
                and not _adds_losses(old, new, k)
                and not k.startswith("eval.domains.")
            }
        )
        if keys:
            raise OodcalibError(
                f"{path}: this run directory was made with a different configuration "
                f"(differs in {', '.join(keys)}); use another --out or the same settings"
            )


def refuse_invalid_record(recorded: Config, run_dir: Path) -> None:
    """Refuse a directory whose ``config.json`` fails today's checks, saying why and what to do.

    Such a record comes from a start that an older version let through (``train.lr=inf``)
    and that failed after writing it: nothing in the directory can be resumed, and
    comparing it with a corrected command would only list the corrected keys.
    """
    try:
        validate_config(recorded)
    except OodcalibError as error:
        reason = " ".join(str(error).replace("invalid configuration:", "").split())
        raise OodcalibError(
            f"{Path(run_dir) / 'config.json'}: this run directory records a configuration "
            f"that is not valid ({reason}), written by a start that failed later; nothing in "
            f"it can be resumed: delete {run_dir} or use another --out"
        ) from None


def recorded_config(run_dir: Path) -> dict | None:
    """The run directory's ``config.json`` as written (None before the first start).

    Raises:
        DataError: The file is unreadable or not a JSON object; it is the record of the
            run, so it is never guessed.
    """
    path = Path(run_dir) / "config.json"
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text())
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as error:
        raise DataError(
            path,
            f"damaged run configuration ({error}); it is the record of "
            "the run, so restore it or use another --out",
        ) from None
    return raw


def resolve_threads(config: Config, run_dir: Path) -> None:
    """Fix ``train.num_threads`` (0: this process's torch threads, or the run's recorded ones).

    Every job of the run then uses that many torch threads, so serial, ``--jobs`` and dask
    runs compute the same numbers, and a resume keeps the count of the run.
    """
    if config.train.num_threads:
        return
    import torch

    recorded = (recorded_config(run_dir) or {}).get("train", {}).get("num_threads", 0)
    config.train.num_threads = recorded or torch.get_num_threads()


def merged_domains(config: Config, run_dir: Path) -> None:
    """Add the extra test domains the run already has (``config.json``) to ``config``.

    A rerun without ``--domain`` keeps the domains an earlier command added.
    """
    old = recorded_config(run_dir)
    if old is not None:
        config.eval.domains = {**Config.from_dict(old).eval.domains, **config.eval.domains}


def _adds_losses(old: dict, new: dict, key: str) -> bool:
    """Whether ``key`` differs only because a loss grid gained losses (which is resumable).

    Cells of the old losses stay valid; the new losses (and their own
    ``train.loss_params.<loss>`` sections) just add cells.
    """
    before, after = old["train"].get("losses") or [], new["train"]["losses"]
    if not before or not set(before) < set(after):
        return False
    added = set(after) - set(before)
    return key == "train.losses" or any(
        key.startswith(f"train.loss_params.{loss}.") for loss in added
    )


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and k != "label_map":
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = json.dumps(v, sort_keys=True)
    return out
