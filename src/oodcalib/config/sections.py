"""The sections of a run's configuration: data, model, training, evaluation.

Each section is a dataclass whose annotations carry the allowed range of every key
(``Count`` is a whole number >= 1, ``Severity`` 1 to 5, ...: :mod:`oodcalib.config.ranges`);
pydantic checks them in
:func:`~oodcalib.config.run_config.validate_config`. Library code takes the one section
it needs (a data source its :class:`DataConfig`, training its :class:`ModelConfig` and
:class:`TrainConfig`); only the protocol sees the whole :class:`~oodcalib.config.Config`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from oodcalib.config.ranges import (
    ClassCode,
    Count,
    Dropout,
    Fraction,
    LearningRate,
    Severity,
    Side,
    Width,
)

#: ``data.*`` keys holding paths or globs (stored absolute, compared absolute on resume).
PATH_KEYS = ("root", "lge_root", "nifti_images", "nifti_labels", "calibration")


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
    #: that every file of one patient lands in the same pool; None: a case per patient.
    #: A NIfTI case id is the text the glob's wildcards matched, joined by ``_``
    #: (``*/*_sa_E?.nii.gz``: ``better/G1K1V3_sa_ED.nii.gz`` is ``better_G1K1V3_D``)
    patient_pattern: str | None = None
    #: Labels whose classes look swapped (RV/LV, ...) stop the run instead of a warning
    strict_labels: bool = False
    #: NIfTI sources with 4D (H, W, Z, T) files: frame index, or "ED"/"ES" from a sidecar
    frame: Annotated[int, Field(ge=0)] | Literal["ED", "ES"] | None = None
    #: Intensity normalisation of the network input (``robust``: percentiles to [0, 1],
    #: ``zscore``, ``none``); a foreign network's sidecar sets it
    normalisation: str = "robust"
    #: A foreign network's calibration patients (``model.networks``): a patient list (one
    #: id a line) or a split file (``splits.json`` layout, one fold per network)
    calibration: str | None = None


@dataclass
class ModelConfig:
    """2D U-Net architecture."""

    width: Width = 32  #: channels of the first level, doubled per level
    #: number of resolution levels (``depth - 1`` poolings: the input side must be a
    #: multiple of ``2 ** (depth - 1)``)
    depth: Annotated[int, Field(ge=2, le=8)] = 5
    dropout: Dropout = 0.0
    #: ``torch.compile`` the U-Net for training and inference (about 1.35x on this
    #: project's CPU; eager if compiling fails). Runs recorded without the key ran eagerly.
    compile: bool = True
    #: ``channels_last`` activations: None (default) on CUDA only; true on the CPU too
    #: (at the paper preset's shapes no reliable gain there: docs/speed.md); false:
    #: nowhere. Changes the rounding.
    channels_last: bool | None = None
    #: Networks oodcalib did not train, one per fold, as ``KIND:SPEC`` (``--model``;
    #: :mod:`oodcalib.segmentation.networks`); empty: the built-in U-Net, trained
    networks: list[str] = field(default_factory=list)


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
    lr: LearningRate = 1e-3
    val_every: Count = 250
    augment: bool = True
    #: torch CPU threads of every job; 0: the number the run starts with, recorded in
    #: ``config.json`` so that every execution mode computes the same numbers
    num_threads: Annotated[int, Field(ge=0, le=1024)] = 0


@dataclass
class EvalConfig:
    """Test domains, calibrators and metrics."""

    #: Calibrators, in any order; a name given twice is counted once
    methods: Annotated[list[str], Field(min_length=1)] = field(
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
