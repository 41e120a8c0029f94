"""``nnunet:FOLDER[,fold=F][,checkpoint=NAME]``: a trained nnU-Net v2 model folder.

``FOLDER`` is a trainer folder of nnU-Net's results
(``Dataset<ID>_<name>/nnUNetTrainer__nnUNetPlans__2d``). The slices go through
nnunetv2's own :class:`nnUNetPredictor`, so its preprocessing (its normalisation and
resampling to the plans' spacing) and its sliding window are the real ones; each
forward call hands it the batch of slices as one stack and turns its probabilities into
log-probabilities. A ``2d`` configuration sees every slice on its own; a ``3d``
configuration would see batches of slices as volumes, so use the ``2d`` one.

The class of each channel comes from the folder's ``dataset.json`` labels named
background, RV, MYO and LV (any case), or from ``FOLDER/oodcalib.json``
(:mod:`~oodcalib.segmentation.networks.declaration`), which may also set the grid the
slices are cut on. Needs the optional extra ``oodcalib[nnunet]`` (nnunetv2).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

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
#: Options after the folder, and their defaults.
OPTIONS = {"fold": "0", "checkpoint": "checkpoint_final.pth"}


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
    return folder, options


class NnUNetModule(torch.nn.Module):
    """nnU-Net's predictor as a module: ``(N, 1, H, W)`` slices to ``(N, K, H, W)`` log-probs.

    Args:
        predictor: An initialised ``nnUNetPredictor``.
        spacing: In-plane pixel size (mm) of the slices it receives.
    """

    def __init__(self, predictor, spacing: float):
        super().__init__()
        self.predictor, self.spacing = predictor, float(spacing)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Log-probabilities of a batch of slices, by nnU-Net's own inference."""
        stack = x[:, 0].detach().cpu().numpy().astype(np.float32)[None]  # (1, Z, Y, X)
        properties = {"spacing": [1.0, self.spacing, self.spacing]}
        _, probabilities = self.predictor.predict_single_npy_array(
            stack, properties, None, None, True
        )
        probs = torch.as_tensor(np.asarray(probabilities, np.float32)).clamp_min(FLOOR)
        return probs.log().permute(1, 0, 2, 3).contiguous().to(x.device)


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
        """``oodcalib.json`` if present; else the classes of ``dataset.json``."""
        sidecar = self.folder / "oodcalib.json"
        if sidecar.exists():
            return read_declaration(sidecar, ("classes",))
        path = self.folder / "dataset.json"
        try:
            labels = json.loads(path.read_text())["labels"]
            order = sorted(labels, key=lambda name: int(labels[name]))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise DataError(path, f"no readable nnU-Net labels ({error})") from None
        classes = parse_classes(order, f"{path} (labels; or declare them in {sidecar})")
        return Declaration(str(path), {"data.normalisation": "none"}, classes)

    def module(self, grid: Grid) -> torch.nn.Module:
        """nnnU-Net's predictor on the CPU, with the declared class map."""
        folder, options = parse_spec(self.spec)
        if not Path(folder).is_dir():
            raise DataError(folder, "nnU-Net model folder not found")
        predictor = predictor_class()(
            device=torch.device("cpu"), verbose=False, verbose_preprocessing=False, allow_tqdm=False
        )
        fold = options["fold"] if options["fold"] == "all" else int(options["fold"])
        try:
            predictor.initialize_from_trained_model_folder(
                folder, use_folds=(fold,), checkpoint_name=options["checkpoint"]
            )
        except (OSError, RuntimeError, KeyError, ValueError) as error:
            raise DataError(folder, f"cannot load the nnU-Net model ({error})") from None
        spacing = grid.spacing * grid.size / (grid.input_size or grid.size)
        net = NnUNetModule(predictor, spacing)
        return ClassMap(net, self.declaration().classes, folder).eval()
