"""``predictions:DIR``: probability maps a user saved instead of sharing the network.

Layout: ``DIR/calibration/`` holds the calibration scans' maps, ``DIR/<domain>/`` those of
each test domain (``clean``, ``lge``, an extra domain's name), one file set per scan in
either layout of :mod:`~oodcalib.segmentation.networks.probability_maps`. An optional
``DIR/oodcalib.json`` declares the class order (default: background, RV, MYO, LV) and the
network grid the maps are scored on (default: the run's).

The maps are brought onto the network grid as the scans are (resampled, cropped,
resized: :func:`~oodcalib.datasets.preprocessing.prepare_case`, linear interpolation
and background padding for probabilities), and their logarithms serve as logits: the
softmax of log-probabilities gives the probabilities back, so softmax calibrators (UC,
TS) fit as on the network's own logits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from skimage.transform import resize

from oodcalib.datasets.case import NUM_CLASSES, Case
from oodcalib.datasets.preprocessing import crop_or_pad
from oodcalib.errors import DataError, OodcalibError
from oodcalib.segmentation.networks.base import ForeignNetwork, Grid
from oodcalib.segmentation.networks.declaration import Declaration, read_declaration
from oodcalib.segmentation.networks.probability_maps import find_map, read_map

#: Probabilities are raised to this floor before the logarithm, so every logit is finite.
FLOOR = 1e-10
#: Folder of the calibration scans' maps (the protocol's domain ``val``).
FOLDERS = {"val": "calibration"}
#: Relative spacing difference tolerated between a map and its scan.
SPACING_TOLERANCE = 0.01


class NoNetwork(torch.nn.Module):
    """Stands for a network that only left its outputs: any forward pass is an error."""

    def __init__(self, source: str):
        super().__init__()
        self.source = source

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Refuse: saved predictions run no forward pass."""
        raise OodcalibError(
            f"{self.source}: saved predictions carry no network, and this step needs forward "
            "passes of it (augmented passes, artifact domains); use torchscript: or nnunet:"
        )


class SavedPredictions(ForeignNetwork):
    """Saved probability maps of one network (one fold)."""

    kind = "predictions"
    forward_passes = False

    def declaration(self) -> Declaration:
        """``DIR/oodcalib.json`` if present, else the four classes in package order."""
        path = Path(self.spec) / "oodcalib.json"
        if path.exists():
            return read_declaration(path)
        if not Path(self.spec).is_dir():
            raise DataError(self.spec, "predictions folder not found")
        return Declaration(str(path), {})

    def module(self, grid: Grid) -> torch.nn.Module:
        """A stand-in that refuses forward passes."""
        return NoNetwork(f"predictions:{self.spec}")

    def folder(self, domain: str) -> Path:
        """Where the maps of ``domain`` are."""
        return Path(self.spec) / FOLDERS.get(domain, domain)

    def missing(self, domain: str, case_ids: list[str]) -> list[str]:
        """The expected file of every scan without a map."""
        folder = self.folder(domain)
        return [str(folder / f"{c}.npz") for c in case_ids if find_map(folder, c) is None]

    def logits(self, domain: str, case: Case, grid: Grid) -> np.ndarray:
        """Log-probabilities of ``case`` on the network grid, ``(Z, 4, H, W)``.

        Raises:
            DataError: A missing map, or one that is not a probability map of this scan
                (its channels, shape or spacing), naming the file.
        """
        folder = self.folder(domain)
        path = find_map(folder, case.case_id)
        if path is None:
            raise DataError(
                folder / f"{case.case_id}.npz",
                f"missing scan: no probability map of {domain}/{case.case_id} (an nnU-Net "
                f".npz + .pkl or {case.case_id}_class<k>.nii.gz files)",
            )
        found = read_map(path, oriented=bool(case.meta.get("reoriented")))
        declaration = self.declaration()
        if len(found.probabilities) != declaration.num_channels:
            raise DataError(
                path,
                f"{len(found.probabilities)} class channels, but {declaration.path} declares "
                f"{declaration.num_channels} ({list(declaration.classes)})",
            )
        _check_geometry(found.probabilities.shape[1:], found.spacing, case, path)
        merged = np.zeros((NUM_CLASSES, *found.probabilities.shape[1:]), np.float32)
        for channel, code in enumerate(declaration.classes):
            merged[code] += found.probabilities[channel]
        on_grid = to_network_grid(merged, case.meta["grid"]["spacing"], grid)
        on_grid /= on_grid.sum(axis=0, keepdims=True)
        return np.log(np.maximum(on_grid, FLOOR)).transpose(1, 0, 2, 3).astype(np.float32)


def _check_geometry(shape: tuple, spacing: tuple, case: Case, path: Path) -> None:
    grid = case.meta.get("grid")
    if grid is None:
        raise OodcalibError(f"{case.case_id}: the scan's own grid is unknown (prepared.joblib)")
    known = grid["spacing"]
    spacing_off = known is not None and any(
        abs(a - b) > SPACING_TOLERANCE * b for a, b in zip(spacing, known, strict=True)
    )
    if tuple(shape) != tuple(grid["shape"]) or spacing_off:
        shown = "unknown" if known is None else tuple(round(float(s), 3) for s in known)
        raise DataError(
            path,
            f"geometry mismatch: a map of shape {tuple(shape)} and spacing "
            f"{tuple(round(s, 3) for s in spacing)} mm for scan {case.case_id} of shape "
            f"{tuple(grid['shape'])} and spacing {shown} mm",
        )


def to_network_grid(
    probabilities: np.ndarray, spacing: tuple[float, float] | None, grid: Grid
) -> np.ndarray:
    """``(C, Z, H, W)`` probabilities brought onto the network grid as the scan is.

    Resampled in-plane to ``grid.spacing`` (when the spacing is known and more than 5 %
    off, as :func:`~oodcalib.datasets.preprocessing.resample_inplane`; linearly),
    centre-cropped or padded with background to ``grid.size``, area-resized to
    ``grid.input_size``.

    Example:
        >>> p = np.zeros((4, 2, 6, 6), np.float32); p[0] = 1
        >>> to_network_grid(p, None, Grid(size=8, spacing=1.5, input_size=4)).shape
        (4, 2, 4, 4)
    """
    out = probabilities
    if spacing is not None:
        zoom = [s / grid.spacing for s in spacing]
        if any(abs(z - 1.0) > 0.05 for z in zoom):
            shape = tuple(round(n * z) for n, z in zip(out.shape[2:], zoom, strict=True))
            out = np.stack(
                [
                    np.stack(
                        [resize(s, shape, order=1, mode="edge", anti_aliasing=False) for s in c]
                    )
                    for c in out
                ]
            ).astype(np.float32)
    out = np.stack([crop_or_pad(c, grid.size, pad_value=float(k == 0)) for k, c in enumerate(out)])
    if grid.input_size is not None and out.shape[-2:] != (grid.input_size,) * 2:
        stack = torch.as_tensor(np.ascontiguousarray(out), dtype=torch.float32)
        size = (grid.input_size, grid.input_size)
        out = F.interpolate(stack, size=size, mode="area").numpy()
    return out.astype(np.float32)
