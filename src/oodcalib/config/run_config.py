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
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from oodcalib.atomic import write_json
from oodcalib.config.overrides import set_value
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
            raise DataError(
                path,
                f"not a valid run configuration ({error}); it is the "
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


#: Sources whose files are given by keys of their own: options of another source are errors.
SOURCE_KEYS = {
    "root": ("phantom", "nifti"),
    "nifti_images": ("phantom", "acdc", "mscmr_lge"),
    "nifti_labels": ("phantom", "acdc", "mscmr_lge"),
    "label_map": ("phantom", "acdc"),
    "frame": ("phantom", "acdc"),
}


@cache
def _adapter() -> TypeAdapter:
    return TypeAdapter(Config)


def validate_config(config: Config) -> Config:
    """The config with every value checked and coerced to its type; raise on a bad key.

    Raises:
        OodcalibError: One line per wrong key (the key, the value, what is allowed),
            or the first rule between keys that fails (:func:`check_rules`).
    """
    raw = dataclasses.asdict(config)
    try:
        valid = _adapter().validate_python(raw)
    except ValidationError as error:
        raise OodcalibError(
            "invalid configuration:\n" + "\n".join(f"  {line}" for line in _messages(error, raw))
        ) from None
    check_rules(valid)
    return valid


def check_rules(config: Config) -> None:
    """Rules between keys: fractions that sum to 1, options of the source in use.

    Example:
        >>> from oodcalib.config import build_config
        >>> check_rules(build_config("smoke", ["data.label_map={1: 3}"], validate=False))
        Traceback (most recent call last):
        ...
        oodcalib.errors.OodcalibError: data.label_map is set but data.source is 'phantom', \
which does not use it; remove it or choose the source it belongs to (--data nifti)
    """
    d = config.data
    if abs(sum(d.split_fractions) - 1) > 1e-6:
        raise OodcalibError(
            f"data.split_fractions={tuple(d.split_fractions)}: the "
            "train/val/test fractions must sum to 1"
        )
    if bool(d.calibration) != bool(config.model.networks):
        raise OodcalibError(
            "data.calibration names the calibration patients of model.networks (--model); "
            "give both (--model KIND:SPEC --calibration FILE) or neither"
        )
    for key, sources in SOURCE_KEYS.items():
        if getattr(d, key) is not None and d.source in sources:
            owner = "acdc, mscmr_lge or a plugin's" if key == "root" else "nifti"
            raise OodcalibError(
                f"data.{key} is set but data.source is {d.source!r}, which "
                f"does not use it; remove it or choose the source it "
                f"belongs to (--data {owner})"
            )


def _key(loc: tuple) -> list[str]:
    """The config key of an error location (union branches and list indices dropped)."""
    parts: list[str] = []
    target: Any = Config()
    for part in loc:
        if dataclasses.is_dataclass(target) and part in {
            f.name for f in dataclasses.fields(target)
        }:
            parts.append(part)
            target = getattr(target, part)
        elif isinstance(target, dict):
            parts.append(str(part))
            break
        else:
            break
    return parts


def _messages(error: ValidationError, raw: dict) -> list[str]:
    grouped: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for item in error.errors():
        parts = _key(item["loc"])
        key = ".".join(parts)
        value: Any = raw
        for part in parts:
            value = value.get(part) if isinstance(value, dict) else None
        values[key] = value
        grouped.setdefault(key, [])
        text = _plain(item)
        if text not in grouped[key]:
            grouped[key].append(text)
    return [f"{key}={values[key]!r}: {' or '.join(texts)}" for key, texts in grouped.items()]


def _plain(item: ErrorDetails) -> str:
    """Pydantic's message in the words of the config (``must be ...``)."""
    kind, message, context = item["type"], item["msg"], item.get("ctx") or {}
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        sign = {
            "greater_than_equal": ">=",
            "greater_than": ">",
            "less_than_equal": "<=",
            "less_than": "<",
        }[kind]
        bound = next(iter(context.values()), "")
        return f"must be {sign} {bound}"
    if kind.startswith("int_"):
        return "must be a whole number" + (
            f" ({message.split(', ', 1)[1]})" if ", " in message else ""
        )
    if kind == "literal_error":
        return f"must be {context.get('expected', message)}"
    return message[:1].lower() + message[1:]
