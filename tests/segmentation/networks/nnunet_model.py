"""Small nnU-Net v2 model folders made by nnunetv2's own code, for the tests (seconds).

``python nnunet_model.py ROOT`` writes two raw datasets of phantom short-axis stacks
under ``ROOT/raw`` (NIfTI through SimpleITK, as nnU-Net reads them), runs nnunetv2's
fingerprint extraction, planner and preprocessor, and saves an untrained checkpoint the
way its trainer does (``nnUNetTrainer.initialize`` then ``save_checkpoint``, with the
mirroring axes its training sets), beside the ``plans.json`` and ``dataset.json`` that
the trainer copies to its results folder. Made under ``ROOT/results``:

- ``Dataset997_Slices/nnUNetTrainer__nnUNetPlans__2d`` (and ``__3d_fullres``): stacks
  stored slice axis first, labels in another order than oodcalib's (background, LV,
  MYO, RV), so the class map is not the identity;
- ``Dataset998_Transposed/nnUNetTrainer__nnUNetPlans__2d``: the same stacks stored slice
  axis last, so the plans' ``transpose_forward`` is ``[2, 0, 1]``.

It runs in its own process: nnunetv2 reads ``nnUNet_raw`` and its kin from the
environment (at import, in versions before 2.6), and its preprocessor spawns processes.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

#: (dataset id, name, whether the slice axis is stored last, configurations)
DATASETS = ((997, "Slices", False, ("2d", "3d_fullres")), (998, "Transposed", True, ("2d",)))
#: nnU-Net label values of oodcalib's classes in the datasets (background, LV, MYO, RV).
LABELS = {"background": 0, "LV": 1, "MYO": 2, "RV": 3}
#: Cases per dataset, side of the slices (pixels) and slice distance (mm).
CASES, SIZE, SLICE_GAP = 3, 48, 8.0


def folder(root: Path, dataset: str = "Dataset997_Slices", configuration: str = "2d") -> Path:
    """The trainer folder of ``dataset`` and ``configuration`` under ``root``."""
    return root / "results" / dataset / f"nnUNetTrainer__nnUNetPlans__{configuration}"


def write_raw(root: Path, dataset: str, slice_axis_last: bool) -> None:
    """Phantom stacks as an nnU-Net raw dataset (``imagesTr``, ``labelsTr``, ``dataset.json``)."""
    import numpy as np
    import SimpleITK as sitk

    from oodcalib.datasets.phantom import make_phantom_case

    base = root / "raw" / dataset
    for sub in ("imagesTr", "labelsTr"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    recode = np.array([LABELS[n] for n in ("background", "RV", "MYO", "LV")], np.uint8)
    for i in range(CASES):
        case = make_phantom_case(i, size=SIZE)
        spacing = [SLICE_GAP, *case.spacing]  # (Z, H, W) array order
        for array, sub, suffix in (
            (case.image.astype(np.float32), "imagesTr", "_0000"),
            (recode[case.label], "labelsTr", ""),
        ):
            order = (1, 2, 0) if slice_axis_last else (0, 1, 2)
            image = sitk.GetImageFromArray(np.ascontiguousarray(array.transpose(order)))
            image.SetSpacing([float(spacing[a]) for a in order][::-1])  # SimpleITK: x, y, z
            sitk.WriteImage(image, str(base / sub / f"case_{i:03d}{suffix}.nii.gz"))
    meta = {"channel_names": {"0": "cineMRI"}, "labels": LABELS, "numTraining": CASES}
    (base / "dataset.json").write_text(json.dumps({**meta, "file_ending": ".nii.gz"}))


def build(root: Path) -> None:
    """Every dataset of :data:`DATASETS`: raw files, plans, preprocessed data, checkpoints."""
    for key in ("raw", "preprocessed", "results"):
        os.environ[f"nnUNet_{key}"] = str(root / key)
    import torch
    from batchgenerators.utilities.file_and_folder_operations import load_json, save_json
    from nnunetv2.experiment_planning.dataset_fingerprint.fingerprint_extractor import (
        DatasetFingerprintExtractor,
    )
    from nnunetv2.experiment_planning.plan_and_preprocess_api import (
        extract_fingerprint_dataset,
        plan_experiment_dataset,
        preprocess_dataset,
    )
    from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

    class FewSamples(DatasetFingerprintExtractor):
        """nnU-Net's fingerprint with 10^5 intensity samples instead of 10^8 (seconds)."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.num_foreground_voxels_for_intensitystats = 1e5

    torch.manual_seed(0)
    for dataset_id, name, slice_axis_last, configurations in DATASETS:
        dataset = f"Dataset{dataset_id}_{name}"
        write_raw(root, dataset, slice_axis_last)
        extract_fingerprint_dataset(dataset_id, FewSamples, 1, show_progress_bar=False)
        plan_experiment_dataset(dataset_id)
        preprocessed = root / "preprocessed" / dataset
        preprocess_dataset(
            dataset_id,
            configurations=configurations,
            num_processes=[1] * len(configurations),
            show_progress_bar=False,
        )
        for configuration in configurations:
            plans = load_json(str(preprocessed / "nnUNetPlans.json"))
            trainer = nnUNetTrainer(
                plans={**plans, "continue_training": False},
                configuration=configuration,
                fold=0,
                dataset_json=load_json(str(preprocessed / "dataset.json")),
                device=torch.device("cpu"),
            )
            trainer.initialize()
            trainer.configure_rotation_dummyDA_mirroring_and_inital_patch_size()
            out = folder(root, dataset, configuration)
            save_json(trainer.plans_manager.plans, str(out / "plans.json"), sort_keys=False)
            save_json(trainer.dataset_json, str(out / "dataset.json"), sort_keys=False)
            trainer.save_checkpoint(str(out / "fold_0" / "checkpoint_final.pth"))


if __name__ == "__main__":
    build(Path(sys.argv[1]))
