"""``nnunet:FOLDER[,fold=F][,checkpoint=NAME]``: a trained nnU-Net v2 model folder.

``FOLDER`` is a trainer folder of nnU-Net's results
(``Dataset<ID>_<name>/nnUNetTrainer__nnUNetPlans__2d``). The slices go through
nnunetv2's own :class:`nnUNetPredictor`, so its preprocessing (its normalisation and
resampling to the plans' spacing) and its sliding window are the real ones; each slice
goes to it as an image of one slice, and its probabilities become log-probabilities. A
slice's output thus does not depend on the batch it came in, but nnU-Net's intensity
normalisation (a z-score for MRI) is taken over the slice, where nnU-Net's own
prediction of a whole scan takes it over the scan. Only a ``2d`` configuration fits
slices: a ``3d`` one is refused.

The class of each channel comes from the folder's ``dataset.json`` labels named
background, RV, MYO and LV (any case; MLV and LVC, the names of nnunetv2's own ACDC
conversion, are MYO and LV), or from ``FOLDER/oodcalib.json``
(:mod:`~oodcalib.segmentation.networks.declaration`), which may also set the grid the
slices are cut on. The run normalises the slices with ``robust`` for a model that z-scores
them (nnU-Net's MRI scheme), as the photometric augmentations expect, and leaves them
as prepared (``none``) for any other (:func:`input_normalisation`). Needs the optional
extra ``oodcalib[nnunet]`` (nnunetv2).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
from pathlib import Path
from pickle import UnpicklingError

import numpy as np
import torch

from oodcalib.config import absolute_path
from oodcalib.errors import DataError, OodcalibError
from oodcalib.segmentation.networks.base import ForeignNetwork, Grid
from oodcalib.segmentation.networks.class_map import ClassMap
from oodcalib.segmentation.networks.declaration import (
    Declaration,
    parse_classes,
    read_declaration,
)

#: Probabilities are raised to this floor before the logarithm.
FLOOR = 1e-10
#: Label names of nnunetv2's own ACDC dataset (``Dataset027_ACDC``) and their classes.
ALIASES = {"mlv": "MYO", "lvc": "LV"}
#: Options after the folder, and their defaults.
OPTIONS = {"fold": "0", "checkpoint": "checkpoint_final.pth"}
#: nnU-Net's normalisation of MRI: a z-score over the image, blind to an affine rescale.
ZSCORE = "ZScoreNormalization"


def predictor_class() -> type:
    """nnunetv2's ``nnUNetPredictor``.

    Raises:
        OodcalibError: nnunetv2 is not installed (naming the extra that installs it).
    """
    try:
        module = importlib.import_module("nnunetv2.inference.predict_from_raw_data")
    except ImportError as error:
        raise OodcalibError(
            f"nnunet: models need nnunetv2, the optional extra oodcalib[nnunet] "
            f"(pip install 'oodcalib[nnunet]'); importing it failed: {error}"
        ) from None
    return module.nnUNetPredictor


def parse_spec(spec: str) -> tuple[str, dict[str, str]]:
    """The folder and options of ``FOLDER[,fold=F][,checkpoint=NAME]``.

    Example:
        >>> parse_spec("/r/Dataset027_ACDC/nnUNetTrainer__nnUNetPlans__2d,fold=3")
        ('/r/Dataset027_ACDC/nnUNetTrainer__nnUNetPlans__2d', {'fold': '3', \
'checkpoint': 'checkpoint_final.pth'})
    """
    folder, *items = spec.split(",")
    options = dict(OPTIONS)
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key.strip() not in OPTIONS:
            raise OodcalibError(
                f"nnunet:{spec}: option {item!r} must be one of "
                f"{', '.join(k + '=...' for k in OPTIONS)}"
            )
        options[key.strip()] = value.strip()
    if not (options["fold"] == "all" or options["fold"].isdigit()):
        raise OodcalibError(
            f"nnunet:{spec}: fold must be a fold number or all, got {options['fold']!r}"
        )
    return folder, options


def input_normalisation(folder: Path) -> str:
    """The run's normalisation of the slices for the model in ``folder``.

    ``robust`` (percentiles to [0, 1]) when the plans of its configuration (the folder
    name's last ``__`` part) z-score every channel over the whole image: nnU-Net undoes
    the rescale, only the clip at the 0.5 and 99.5 percentiles remains, and the
    protocol's photometric augmentations (Alea., Proposed, LTS), whose ranges are those
    of [0, 1] intensities, see the intensities they are made for. ``none`` (the
    intensities as prepared, which those augmentations act on in each slice's own range)
    for any other scheme (CT's fixed window, a z-score within the nonzero mask), which a
    rescale would change, or unreadable plans.

    Example:
        >>> input_normalisation(Path("no/such/nnUNetTrainer__nnUNetPlans__2d"))
        'none'
    """
    configuration = folder.name.rpartition("__")[2]
    try:
        plans = json.loads((folder / "plans.json").read_text())["configurations"][configuration]
        schemes, masks = plans["normalization_schemes"], plans["use_mask_for_norm"]
    except (OSError, ValueError, KeyError, TypeError):
        return "none"
    return "robust" if all(s == ZSCORE for s in schemes) and not any(masks) else "none"


class NnUNetModule(torch.nn.Module):
    """nnU-Net's predictor as a module: ``(N, 1, H, W)`` slices to ``(N, K, H, W)`` log-probs.

    Each slice goes to nnU-Net as an image of one slice, so its output does not depend on
    the other slices of the batch (nnU-Net's z-score normalisation, its crop to the
    nonzero region and its resampling act on each image as a whole). The slice is laid
    out in the model's stored axis order (the inverse of the plans' ``transpose_forward``),
    so that nnU-Net's transpose brings it back to ``(1, H, W)``.

    Args:
        predictor: An initialised ``nnUNetPredictor``.
        spacing: In-plane pixel size (mm) of the slices it receives.
    """

    def __init__(self, predictor, spacing: float):
        super().__init__()
        self.predictor, self.spacing = predictor, float(spacing)
        self.forward_axes = list(predictor.plans_manager.transpose_forward)
        self.stored_axes = list(predictor.plans_manager.transpose_backward)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Log-probabilities of a batch of slices, by nnU-Net's own inference."""
        slices = x[:, 0].detach().cpu().numpy().astype(np.float32)
        spacing = [[1.0, self.spacing, self.spacing][a] for a in self.stored_axes]
        back = [0, *(1 + a for a in self.forward_axes)]
        probs = []
        for image in slices:
            stored = image[None].transpose(self.stored_axes)[None]  # (1, ...) stored order
            _, p = self.predictor.predict_single_npy_array(
                stored, {"spacing": list(spacing)}, None, None, True
            )
            probs.append(np.asarray(p, np.float32).transpose(back)[:, 0])  # (K, H, W)
        probs = torch.as_tensor(np.stack(probs)).clamp_min(FLOOR)
        return probs.log().to(x.device)


class NnUNetNetwork(ForeignNetwork):
    """A trained nnU-Net v2 model folder (one fold)."""

    kind = "nnunet"

    @classmethod
    def resolve(cls, spec: str) -> str:
        """The folder made absolute, the options kept."""
        folder, _ = parse_spec(spec)
        return ",".join([absolute_path(folder), *spec.split(",")[1:]])

    @property
    def folder(self) -> Path:
        """The trainer folder."""
        return Path(parse_spec(self.spec)[0])

    def declaration(self) -> Declaration:
        """``oodcalib.json`` if present; else the classes of ``dataset.json``.

        The normalisation is :func:`input_normalisation`'s unless the sidecar sets one.
        """
        sidecar = self.folder / "oodcalib.json"
        normalisation = {"data.normalisation": input_normalisation(self.folder)}
        if sidecar.exists():
            declared = read_declaration(sidecar, ("classes",))
            return Declaration(declared.path, normalisation | declared.grid, declared.classes)
        path = self.folder / "dataset.json"
        try:
            labels = json.loads(path.read_text())["labels"]
            order = sorted(labels, key=lambda name: int(labels[name]))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise DataError(path, f"no readable nnU-Net labels ({error})") from None
        order = [ALIASES.get(name.lower(), name) for name in order]
        classes = parse_classes(order, f"{path} (labels; or declare them in {sidecar})")
        return Declaration(str(path), normalisation, classes)

    def module(self, grid: Grid) -> torch.nn.Module:
        """nnU-Net's predictor on the CPU, with the declared class map."""
        folder, options = parse_spec(self.spec)
        if not Path(folder).is_dir():
            raise DataError(folder, "nnU-Net model folder not found")
        with contextlib.redirect_stdout(io.StringIO()):  # its CPU note, printed on every call
            predictor = predictor_class()(
                perform_everything_on_device=False,
                device=torch.device("cpu"),
                verbose=False,
                verbose_preprocessing=False,
                allow_tqdm=False,
            )
        fold = options["fold"] if options["fold"] == "all" else int(options["fold"])
        try:
            predictor.initialize_from_trained_model_folder(
                folder, use_folds=(fold,), checkpoint_name=options["checkpoint"]
            )
        except (OSError, RuntimeError, KeyError, ValueError, EOFError, UnpicklingError) as error:
            raise DataError(folder, f"cannot load the nnU-Net model ({error})") from None
        if len(predictor.configuration_manager.patch_size) != 2:
            raise DataError(
                folder,
                f"a {len(predictor.configuration_manager.patch_size)}D nnU-Net configuration; "
                "slices need a 2d one (nnUNetTrainer__nnUNetPlans__2d)",
            )
        spacing = grid.spacing * grid.size / (grid.input_size or grid.size)
        net = NnUNetModule(predictor, spacing)
        return ClassMap(net, self.declaration().classes, folder).eval()
