"""Export the trained U-Nets of a run as TorchScript networks (``oodcalib export``).

Each fold's net becomes ``fold<k>.pt`` with its sidecar ``fold<k>.json`` (the run's grid
and normalisation), and the run's ``splits.json`` is copied beside them: run as
``--model torchscript:fold<k>.pt ... --calibration splits.json`` with the run's preset,
they meet the same patients and give the same numbers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from oodcalib.benchmark.layout import checkpoint_path
from oodcalib.benchmark.protocol.cells import require_trained
from oodcalib.benchmark.protocol.fold import cell_dir
from oodcalib.benchmark.protocol.hyperparameters import run_losses
from oodcalib.benchmark.protocol.run_data import load_run_config
from oodcalib.errors import OodcalibError, lookup
from oodcalib.segmentation.inference import load_model
from oodcalib.segmentation.networks.export import export_torchscript


def export_networks(run_dir: Path, out: Path, loss: str | None = None) -> list[Path]:
    """Write every fold's net of ``run_dir`` (of ``loss``, in a loss grid) under ``out``.

    Returns:
        The TorchScript files, in fold order (``splits.json`` is written beside them).

    Raises:
        OodcalibError: A run of foreign networks (nothing to export), an unknown loss,
            or a fold not trained yet.
    """
    run_dir, out = Path(run_dir), Path(out)
    config = load_run_config(run_dir)
    if config.model.networks:
        raise OodcalibError(
            f"{run_dir}: its networks were not trained by oodcalib; nothing to export"
        )
    losses = run_losses(config)
    loss = lookup({name: name for name in losses}, loss, "loss of the run") if loss else losses[0]
    require_trained(config, run_dir, "exporting its nets")
    d = config.data
    files = []
    for fold in range(d.n_folds):
        model = load_model(checkpoint_path(cell_dir(config, run_dir, fold, loss)))
        files.append(
            export_torchscript(
                model,
                out / f"fold{fold}.pt",
                size=d.size,
                spacing=d.spacing,
                input_size=d.input_size,
                normalisation=d.normalisation,
            )
        )
    shutil.copyfile(run_dir / "splits.json", out / "splits.json")
    return files
