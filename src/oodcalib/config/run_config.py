"""The whole configuration of a run, and its validation.

A run is fully described by one :class:`Config`: its sections
(:mod:`oodcalib.config.sections`) and the run-level keys. :func:`validate_config`
checks each key's type and range (the annotations of the sections, by pydantic), then
the rules between keys; each wrong key gets one line: the key, the value given and
what is allowed. It runs before anything is loaded, written or computed
(:func:`~oodcalib.config.build_config` calls it, and :meth:`Config.load` for a run's
``config.json``).

Example:
    >>> c = Config()
    >>> c.train.iterations, c.eval.severity = "abc", 9
    >>> validate_config(c)
    Traceback (most recent call last):
    ...
    oodcalib.errors.OodcalibError: invalid configuration:
      train.iterations='abc': must be a whole number (unable to parse string as an integer)
      eval.severity=9: must be <= 5
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, cast

from pydantic import Field, TypeAdapter, ValidationError

from oodcalib.atomic import write_json
from oodcalib.config.overrides import set_value
from oodcalib.config.ranges import plain_message
from oodcalib.config.rules import check_rules, unique_names
from oodcalib.config.sections import DataConfig, EvalConfig, ModelConfig, TrainConfig
from oodcalib.errors import DataError, OodcalibError


@dataclass
class Config:
    """Everything a run depends on."""

    preset: str = "paper"
    seed: Annotated[int, Field(ge=0, lt=2**32)] = 0
    n_jobs: Annotated[int, Field(ge=1, le=4096)] = 1  #: parallel cell jobs (joblib)
    #: joblib backend: loky, threading, or dask (needs a dask client)
    backend: Literal["loky", "threading", "dask"] = "loky"
    #: Where the networks run: auto (CUDA when torch sees a GPU, else the CPU), cpu,
    #: cuda, cuda:N or mps. A run records the kind it resolved to (cpu, cuda, mps) and
    #: resumes only on that kind (numbers differ bit-wise across devices); runs recorded
    #: before the key ran on the CPU.
    device: Annotated[str, Field(pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$")] = "auto"
    #: Autocast the U-Net on CUDA (bf16, or fp16 with a gradient scaler); no effect elsewhere
    amp: bool = True
    #: Deterministic algorithms (torch.use_deterministic_algorithms, cudnn.deterministic,
    #: no cudnn.benchmark): bit-for-bit repeatable on one GPU and software stack
    deterministic: bool = False
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    #: Hyperparameters per calibrator, ``{method: {name: value}}``
    #: (``--set calib.lts.lr=1e-4``); the calibrator's own defaults fill the rest.
    calib: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Plugin files or modules imported before the run (they fill the registries).
    plugins: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the whole config."""
        return dataclasses.asdict(self)

    def save(self, path: Path) -> None:
        """Write the resolved config as JSON."""
        write_json(path, self.to_dict())

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Config:
        """Rebuild a config from :meth:`to_dict` output (older layouts are translated)."""
        config = cls()
        raw = {**raw, "calib": _per_method_calib(raw.get("calib", {}))}
        if isinstance(raw.get("model"), dict):  # recorded before the U-Net was compiled
            raw["model"] = {"compile": False, **raw["model"]}
        raw.setdefault("device", "cpu")  # recorded before devices: it ran on the CPU
        for key, value in raw.items():
            if isinstance(value, dict) and dataclasses.is_dataclass(getattr(config, key, None)):
                for sub, sub_value in value.items():
                    set_value(config, f"{key}.{sub}", sub_value)
            else:
                set_value(config, key, value)
        return config

    @classmethod
    def load(cls, path: Path) -> Config:
        """Read and validate a ``config.json`` written by :meth:`save`.

        Raises:
            DataError: The file is unreadable, not JSON, or holds an invalid config.
        """
        try:
            raw = json.loads(Path(path).read_text())
            if not isinstance(raw, dict):
                raise ValueError("not a JSON object")
            return validate_config(cls.from_dict(raw))
        except (OSError, ValueError, OodcalibError) as error:
            reason = " ".join(str(error).replace("invalid configuration:", "").split())
            raise DataError(
                path,
                f"not a valid run configuration ({reason}); it is the "
                "record of the run, so restore it or use another "
                "directory",
            ) from None


def _per_method_calib(calib: dict[str, Any]) -> dict[str, Any]:
    """Translate the flat ``calib`` section of runs made before oodcalib 0.2.

    It held one value per name, handed to every learned calibrator (LTS and Proposed)
    whose ``__init__`` took it; ``None`` meant the calibrator's default.

    Example:
        >>> _per_method_calib({"iterations": 150, "lr": None, "train_copies": 4})
        {'lts': {'iterations': 150}, 'proposed': {'iterations': 150, 'train_copies': 4}}
    """
    if all(isinstance(v, dict) for v in calib.values()):
        return calib
    shared = {k: v for k, v in calib.items() if v is not None and k != "train_copies"}
    proposed = {
        **shared,
        **(
            {"train_copies": calib["train_copies"]} if calib.get("train_copies") is not None else {}
        ),
    }
    return {"lts": shared, "proposed": proposed}


@cache
def _adapter(kind: Any = Config) -> TypeAdapter:
    return TypeAdapter(kind)


def validate_config(config: Config) -> Config:
    """The config with every value checked and coerced to its type; raise on a bad key.

    A method named twice in ``eval.methods`` is kept once (its first spelling).

    Raises:
        OodcalibError: One line per wrong key (the key, the value, what is allowed),
            or the first rule between keys that fails (:func:`check_rules`).
    """
    raw = dataclasses.asdict(config)
    try:
        valid = _adapter().validate_python(raw)
    except ValidationError as error:
        raise OodcalibError(
            "invalid configuration:\n"
            + "\n".join(f"  {line}" for line in _messages(error, raw, Config()))
        ) from None
    valid.eval.methods = unique_names(valid.eval.methods)
    check_rules(valid)
    return valid


def validate_section(section: Any, prefix: str, names: Mapping[str, str] | None = None) -> Any:
    """One section (a :class:`DataConfig`, ...) checked like :func:`validate_config` does.

    Args:
        section: The section's dataclass.
        prefix: What the keys are called in the messages (``eval.domains.mnms``).
        names: Field name -> the key the user gave it (``nifti_images`` -> ``images``).

    Raises:
        OodcalibError: One line per wrong key, named ``<prefix>.<key>``.
    """
    raw = dataclasses.asdict(section)
    try:
        return _adapter(cast(Hashable, type(section))).validate_python(raw)
    except ValidationError as error:
        lines = _messages(error, raw, type(section)())
        for field_name, key in (names or {}).items():
            lines = [
                line.replace(f"{field_name}=", f"{key}=", 1)
                if line.startswith(f"{field_name}=")
                else line
                for line in lines
            ]
        raise OodcalibError(
            "invalid configuration:\n" + "\n".join(f"  {prefix}.{line}" for line in lines)
        ) from None


def _key(loc: tuple, root: Any) -> list[str]:
    """The config key of an error location (union branches and list indices dropped)."""
    parts: list[str] = []
    target: Any = root
    for part in loc:
        if dataclasses.is_dataclass(target) and part in {
            f.name for f in dataclasses.fields(target)
        }:
            parts.append(str(part))
            target = getattr(target, str(part))
        elif isinstance(target, dict):
            parts.append(str(part))
            break
        else:
            break
    return parts


def _messages(error: ValidationError, raw: dict, root: Any) -> list[str]:
    grouped: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for item in error.errors():
        parts = _key(item["loc"], root)
        key = ".".join(parts)
        value: Any = raw
        for part in parts:
            value = value.get(part) if isinstance(value, dict) else None
        values[key] = value
        grouped.setdefault(key, [])
        text = plain_message(item)
        if text not in grouped[key]:
            grouped[key].append(text)
    return [f"{key}={values[key]!r}: {' or '.join(texts)}" for key, texts in grouped.items()]
