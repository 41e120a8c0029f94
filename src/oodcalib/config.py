"""Run configuration: typed sections, named presets and ``key=value`` overrides.

A run is fully described by one :class:`Config`. Presets (:data:`PRESETS`, defined in
:mod:`oodcalib.presets` and re-exported here) are plain dicts of overrides applied to the
defaults, so ``oodcalib run --preset quick --set train.iterations=500`` and the resolved
``config.json`` in the run directory say exactly what was run.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from oodcalib.atomic import write_json
from oodcalib.errors import DataError, OodcalibError, lookup
from oodcalib.presets import PRESETS

__all__ = ["PATH_KEYS", "PRESETS", "Config", "DataConfig", "EvalConfig", "ModelConfig",
           "TrainConfig", "absolute_path", "build_config", "set_value"]


#: Types with a range, checked by :func:`oodcalib.validation.validate_config`.
Count = Annotated[int, Field(ge=1)]  #: a whole number >= 1
Fraction = Annotated[float, Field(ge=0, le=1)]
Side = Annotated[int, Field(ge=8, le=4096)]  #: an image side in pixels
Severity = Annotated[int, Field(ge=1, le=5)]
ClassCode = Annotated[int, Field(ge=0, le=3)]  #: 0 background, 1 RV, 2 MYO, 3 LV

#: ``data.*`` keys holding paths or globs (stored absolute, compared absolute on resume).
PATH_KEYS = ("root", "lge_root", "nifti_images", "nifti_labels")


def absolute_path(value: str | Path) -> str:
    """A path or glob as stored in a config: ``~`` expanded, made absolute.

    Example:
        >>> absolute_path("/data/../data/*.nii.gz")
        '/data/*.nii.gz'
    """
    return os.path.abspath(os.path.expanduser(str(value)))


@dataclass
class DataConfig:
    """Which data, how it is preprocessed and split."""

    source: str = "phantom"  #: phantom | acdc | nifti
    root: str | None = None  #: ACDC root (acdc) or None
    lge_root: str | None = None  #: MS-CMRSeg LGE root; None: LGE phantom for phantom data
    phase: Literal["ED", "ES"] = "ES"
    phantom_cases: Count = 100
    lge_phantom_cases: Count = 20
    size: Side = 192  #: in-plane crop/pad size
    #: side of the network input: slices cropped to ``size`` are resized to it after any
    #: corruption (None: ``size``); the field of view stays ``size x spacing`` mm
    input_size: Side | None = None
    #: target in-plane spacing (mm) for sources that know theirs
    spacing: Annotated[float, Field(gt=0, le=20)] = 1.5
    n_folds: Count = 3
    train_per_fold: Count = 20
    val_per_fold: Count = 5
    split_fractions: tuple[Fraction, Fraction, Fraction] = (0.6, 0.2, 0.2)
    max_test_cases: Count | None = None  #: cap the test cases per domain (smoke runs)
    nifti_images: str | None = None  #: glob of images (source "nifti")
    nifti_labels: str | None = None  #: glob of labels (source "nifti")
    label_map: dict[int, ClassCode] | None = None  #: raw label code -> 1 RV / 2 MYO / 3 LV
    #: NIfTI sources: "affine" reorients each volume from its affine to the package's
    #: convention (RV left of LV, base first); "stored" uses the arrays as stored
    orientation: Literal["affine", "stored"] = "affine"
    #: Regex finding the patient id in a case id (its first group, else the match), so
    #: that every file of one patient lands in the same pool; None: a case per patient
    patient_pattern: str | None = None
    #: Labels whose classes look swapped (RV/LV, ...) stop the run instead of a warning
    strict_labels: bool = False
    #: NIfTI sources with 4D (H, W, Z, T) files: frame index, or "ED"/"ES" from a sidecar
    frame: Annotated[int, Field(ge=0)] | Literal["ED", "ES"] | None = None


@dataclass
class ModelConfig:
    """2D U-Net architecture."""

    width: Count = 32  #: channels of the first level, doubled per level
    depth: Annotated[int, Field(ge=1, le=8)] = 5  #: number of resolution levels
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.0
    #: ``torch.compile`` the U-Net for training and inference (about 1.35x on this
    #: project's CPU; eager if compiling fails). Runs recorded without the key ran eagerly.
    compile: bool = True


@dataclass
class TrainConfig:
    """Segmentation network training."""

    loss: str = "dice_ce"
    #: The loss grid: one segmentation net per (loss, fold) (``--losses ce,nacl``);
    #: empty: ``loss`` alone, in the single-loss layout (``fold<k>/``).
    losses: list[str] = field(default_factory=list)
    #: Hyperparameters of the loss factory: ``--set train.loss_params.alpha=0.1`` for a
    #: single-loss run, ``--set train.loss_params.nacl.alpha=0.1`` per loss of a grid.
    loss_params: dict[str, Any] = field(default_factory=dict)
    iterations: Count = 20000
    batch_size: Count = 16
    lr: Annotated[float, Field(gt=0)] = 1e-3
    val_every: Count = 250
    augment: bool = True
    #: torch CPU threads of every job; 0: the number the run starts with, recorded in
    #: ``config.json`` so that every execution mode computes the same numbers
    num_threads: Annotated[int, Field(ge=0, le=1024)] = 0


@dataclass
class EvalConfig:
    """Test domains, calibrators and metrics."""

    methods: list[str] = field(
        default_factory=lambda: ["uc", "ts", "lts", "alea", "proposed", "ir", "platt"]
    )
    corruptions: list[str] = field(
        default_factory=lambda: ["bias_field", "motion", "ghosting", "spike"]
    )
    severity: Severity = 3
    cross_sequence: bool = True
    repeats: Count = 3
    n_bins: Count = 10
    roi_size: Count = 10
    num_aug: Count = 180  #: augmented passes N_A at test time (Alea., Proposed)
    ablation_num_aug: list[Count] = field(default_factory=lambda: [15, 45, 90, 180])
    #: Extra test domains, ``{name: spec}`` (``--domain NAME=SPEC``; keys in
    #: :mod:`oodcalib.datasets.domain_spec`): a source, its files, a label map, a kind
    domains: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Config:
    """Everything a run depends on."""

    preset: str = "paper"
    seed: Annotated[int, Field(ge=0, lt=2**32)] = 0
    n_jobs: Annotated[int, Field(ge=1, le=4096)] = 1  #: parallel cell jobs (joblib)
    #: joblib backend: loky, threading, or dask (needs a dask client)
    backend: Literal["loky", "threading", "dask"] = "loky"
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
        from oodcalib.validation import validate_config

        try:
            raw = json.loads(Path(path).read_text())
            if not isinstance(raw, dict):
                raise ValueError("not a JSON object")
            return validate_config(cls.from_dict(raw))
        except (OSError, ValueError, OodcalibError) as error:
            raise DataError(path, f"not a valid run configuration ({error}); it is the "
                                  "record of the run, so restore it or use another "
                                  "directory") from None


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
    proposed = {**shared, **({"train_copies": calib["train_copies"]}
                             if calib.get("train_copies") is not None else {})}
    return {"lts": shared, "proposed": proposed}


def set_value(config: Config, dotted: str, value: Any) -> None:
    """Set ``section.key`` (or a top-level key) on ``config``, coercing the type.

    A key under a dict-valued field (``calib``, ``train.loss_params``, ``data.label_map``)
    sets an entry of that dict: ``calib.lts.lr`` sets ``config.calib["lts"]["lr"]``.
    Which names such entries may take is checked where they are used (the calibrator or
    loss lists its valid hyperparameters).

    Raises:
        OodcalibError: If the key does not exist; the message lists the valid keys.

    Example:
        >>> c = Config()
        >>> set_value(c, "calib.lts.lr", "1e-4")
        >>> set_value(c, "train.loss_params.alpha", "0.1")
        >>> c.calib, c.train.loss_params
        ({'lts': {'lr': 0.0001}}, {'alpha': 0.1})
    """
    target: Any = config
    parts = dotted.split(".")
    for depth, part in enumerate(parts):
        if not dataclasses.is_dataclass(target):
            raise OodcalibError(f"unknown config section {part!r} in {dotted!r}")
        names = [f.name for f in dataclasses.fields(target)]
        if part not in names:
            where = "here " if depth else ""
            raise OodcalibError(
                f"unknown config key {dotted!r}; valid keys {where}are: {', '.join(names)}"
            )
        current = getattr(target, part)
        if isinstance(current, dict) and depth < len(parts) - 1:
            _set_entry(current, parts[depth + 1 :], value, dotted)
            return
        if depth == len(parts) - 1:
            setattr(target, part, _coerce(current, value))
            return
        target = current


def _set_entry(mapping: dict, keys: list[str], value: Any, dotted: str) -> None:
    """Set ``mapping[k0][k1]...`` to the parsed ``value``, creating inner dicts."""
    for key in keys[:-1]:
        inner = mapping.setdefault(key, {})
        if not isinstance(inner, dict):
            raise OodcalibError(f"config key {dotted!r}: {key!r} holds a value, not a section")
        mapping = inner
    mapping[keys[-1]] = parse_value(value) if isinstance(value, str) else value


def _coerce(current: Any, value: Any) -> Any:
    """Parse a string override and match the container type of the current value."""
    if isinstance(value, str) and not isinstance(current, str):
        value = parse_value(value)
    if isinstance(current, list) and not isinstance(value, list):
        value = [value]
    if isinstance(current, tuple) and isinstance(value, list):
        value = tuple(value)
    if isinstance(current, float) and isinstance(value, int):
        value = float(value)
    return value


def parse_value(text: str) -> Any:
    """Parse an override value: Python/JSON literals, else a plain string."""
    lowered = text.strip().lower()
    if lowered in {"none", "null"}:
        return None
    if lowered in {"true", "false"}:
        return lowered == "true"
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        if "," in text:
            return [parse_value(part) for part in text.split(",") if part.strip()]
        return text


def build_config(preset: str = "quick", overrides: list[str] | None = None,
                 validate: bool = True, **kw: Any) -> Config:
    """Resolve a preset plus ``key=value`` overrides into a :class:`Config`.

    Args:
        preset: One of :data:`PRESETS`.
        overrides: Strings like ``"train.iterations=500"``.
        validate: Check every key's type and range and the rules between keys
            (:func:`oodcalib.validation.validate_config`).
        **kw: Extra dotted overrides given as keyword pairs (``{"data.source": "acdc"}``
            style keys must be passed through ``overrides``; plain ``seed=1`` works here).

    Example:
        >>> c = build_config("smoke", ["train.iterations=3", "eval.methods=uc,ts"])
        >>> c.train.iterations, c.eval.methods, c.data.size
        (3, ['uc', 'ts'], 64)
    """
    config = Config(preset=preset)
    for key, value in lookup(PRESETS, preset, "preset").items():
        set_value(config, key, value)
    for key, value in kw.items():
        if value is not None:
            set_value(config, key.replace("__", "."), value)
    for item in overrides or []:
        if "=" not in item:
            raise OodcalibError(f"override {item!r} must look like key=value")
        key, value = item.split("=", 1)
        set_value(config, key.strip(), value)
    if validate:
        from oodcalib.validation import validate_config

        config = validate_config(config)
    return config
