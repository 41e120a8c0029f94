"""``nnunet:FOLDER``: the options, the missing extra, and (with nnunetv2) a real predictor.

With nnunetv2, the model folders are made by its own code (``nnunet_model.py``: its
planner, and an untrained checkpoint saved by its trainer) and the oracle is its own
``nnUNetPredictor.predict_single_npy_array`` on each slice as an image of one slice.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from oodcalib.datasets.phantom import make_phantom_case
from oodcalib.errors import DataError, OodcalibError
from oodcalib.segmentation.networks import Grid, get_network, resolve_model
from oodcalib.segmentation.networks.nnunet import (
    input_normalisation,
    parse_spec,
    predictor_class,
)
from tests.segmentation.networks.nnunet_model import SIZE, folder

HAS_NNUNET = importlib.util.find_spec("nnunetv2") is not None
needs_nnunet = pytest.mark.skipif(
    not HAS_NNUNET, reason="needs nnunetv2 (pip install 'oodcalib[nnunet]')"
)
#: oodcalib's class (background, RV, MYO, LV) -> channel of the models (background, LV,
#: MYO, RV).
CHANNELS = [0, 3, 2, 1]


def test_options_are_parsed_and_the_folder_recorded_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_model("nnunet:res/2d,fold=2") == f"nnunet:{tmp_path}/res/2d,fold=2"
    assert parse_spec("r,checkpoint=checkpoint_best.pth")[1]["checkpoint"] == (
        "checkpoint_best.pth"
    )
    with pytest.raises(OodcalibError, match="fold=..."):
        parse_spec("r,folds=1")
    assert parse_spec("r,fold=all")[1]["fold"] == "all"
    with pytest.raises(OodcalibError, match="fold must be a fold number or all"):
        resolve_model("nnunet:r,fold=one")  # refused when the run starts, not when it loads


def test_classes_come_from_the_dataset_labels(tmp_path):
    labels = {"background": 0, "LV": 1, "MYO": 2, "RV": 3}
    (tmp_path / "dataset.json").write_text(json.dumps({"labels": labels}))
    declaration = get_network(f"nnunet:{tmp_path}").declaration()
    assert declaration.classes == (0, 3, 2, 1)
    assert declaration.grid == {"data.normalisation": "none"}  # no plans: as prepared
    (tmp_path / "dataset.json").write_text(json.dumps({"labels": {"background": 0, "a": 1}}))
    with pytest.raises(DataError, match="'a' is not a class"):
        get_network(f"nnunet:{tmp_path}").declaration()


def test_nnunets_own_acdc_label_names_are_classes(tmp_path):
    labels = {"background": 0, "RV": 1, "MLV": 2, "LVC": 3}  # nnunetv2's Dataset027_ACDC
    (tmp_path / "dataset.json").write_text(json.dumps({"labels": labels}))
    assert get_network(f"nnunet:{tmp_path}").declaration().classes == (0, 1, 2, 3)


def write_plans(trainer_folder: Path, schemes: list[str], masks: list[bool]) -> Path:
    """A ``plans.json`` whose ``2d`` configuration normalises with ``schemes``."""
    trainer_folder.mkdir(parents=True, exist_ok=True)
    configuration = {"normalization_schemes": schemes, "use_mask_for_norm": masks}
    plans = {"configurations": {"2d": configuration}}
    (trainer_folder / "plans.json").write_text(json.dumps(plans))
    return trainer_folder


@pytest.mark.parametrize(
    "schemes, masks, expected",
    [
        (["ZScoreNormalization"], [False], "robust"),  # nnU-Net's MRI: blind to a rescale
        (["CTNormalization"], [False], "none"),  # a fixed window: raw intensities
        (["ZScoreNormalization"], [True], "none"),  # the rescale's zeros would move the mask
        (["ZScoreNormalization", "CTNormalization"], [False, False], "none"),
    ],
)
def test_the_run_rescales_the_slices_only_for_a_zscore_model(tmp_path, schemes, masks, expected):
    trainer_folder = write_plans(tmp_path / "nnUNetTrainer__nnUNetPlans__2d", schemes, masks)
    (trainer_folder / "dataset.json").write_text(
        json.dumps({"labels": {"background": 0, "RV": 1, "MYO": 2, "LV": 3}})
    )
    assert input_normalisation(trainer_folder) == expected
    assert get_network(f"nnunet:{trainer_folder}").declaration().grid == {
        "data.normalisation": expected
    }


def test_a_sidecar_keeps_the_normalisation_of_the_plans(tmp_path):
    trainer_folder = write_plans(
        tmp_path / "nnUNetTrainer__nnUNetPlans__2d", ["ZScoreNormalization"], [False]
    )
    sidecar = trainer_folder / "oodcalib.json"
    sidecar.write_text(json.dumps({"classes": ["background", "LV", "MYO", "RV"], "size": 96}))
    declaration = get_network(f"nnunet:{trainer_folder}").declaration()
    assert declaration.classes == (0, 3, 2, 1)
    assert declaration.grid == {
        "data.normalisation": "robust",
        "data.size": 96,
        "data.input_size": None,
    }
    sidecar.write_text(json.dumps({"classes": [0, 1, 2, 3], "normalisation": "zscore"}))
    grid = get_network(f"nnunet:{trainer_folder}").declaration().grid
    assert grid == {"data.normalisation": "zscore"}


@pytest.mark.skipif(HAS_NNUNET, reason="nnunetv2 is installed")
def test_without_nnunetv2_the_error_names_the_extra(tmp_path):
    with pytest.raises(OodcalibError, match=r"oodcalib\[nnunet\]"):
        predictor_class()
    (tmp_path / "dataset.json").write_text(json.dumps({"labels": {"background": 0}}))
    with pytest.raises(OodcalibError, match=r"oodcalib\[nnunet\]"):
        get_network(f"nnunet:{tmp_path}").module(Grid(64, 1.5))


@pytest.mark.nnunet
@needs_nnunet
def test_a_missing_model_folder_is_named_by_nnunet_kind(tmp_path):
    with pytest.raises(DataError, match="not found"):
        get_network(f"nnunet:{tmp_path / 'none'}").module(Grid(64, 1.5))


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> Path:
    """Model folders made by nnunetv2's own code (``nnunet_model.py``), in seconds."""
    root = tmp_path_factory.mktemp("nnunet")
    script = Path(__file__).with_name("nnunet_model.py")
    done = subprocess.run(
        [sys.executable, str(script), str(root)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return root


@pytest.fixture(scope="module")
def slices() -> torch.Tensor:
    """``(5, 1, H, W)`` raw slices of a phantom scan the models were not planned on."""
    image = make_phantom_case(7, size=SIZE).image[:5]
    return torch.as_tensor(image[:, None].astype(np.float32))


def oracle(trainer_folder: Path, slices: torch.Tensor, spacing: float, last: bool = False):
    """nnUNetPredictor's log-probabilities ``(N, K, H, W)`` of each slice on its own.

    Args:
        trainer_folder: The model folder.
        slices: ``(N, 1, H, W)``.
        spacing: Their pixel size (mm).
        last: The model's images store the slice axis last (``(H, W, 1)``).
    """
    predictor = predictor_class()(
        device=torch.device("cpu"), perform_everything_on_device=False, allow_tqdm=False
    )
    predictor.initialize_from_trained_model_folder(str(trainer_folder), (0,))
    out = []
    for image in slices[:, 0].numpy():
        stored, spacings = (
            (image[:, :, None], [spacing, spacing, 1.0])
            if last
            else (image[None], [1.0, spacing, spacing])
        )
        _, p = predictor.predict_single_npy_array(
            stored[None], {"spacing": spacings}, None, None, True
        )
        out.append(p[..., 0] if last else p[:, 0])
    return np.log(np.maximum(np.stack(out), 1e-10))


@pytest.mark.nnunet
@needs_nnunet
@pytest.mark.parametrize(
    "grid, spacing", [(Grid(SIZE, 1.5), 1.5), (Grid(2 * SIZE, 1.5, SIZE), 3.0)]
)
def test_log_probabilities_are_nnunet_predictors_own(models, slices, grid, spacing, capsys):
    network = get_network(f"nnunet:{folder(models)}")
    assert network.declaration().grid == {"data.normalisation": "robust"}  # its planner's
    module = network.module(grid)
    assert capsys.readouterr().out == ""  # nnunetv2's note on CPU devices is not printed
    with torch.no_grad():
        logp = module(slices).numpy()
    expected = oracle(folder(models), slices, spacing)[:, CHANNELS]
    assert logp.shape == (5, 4, SIZE, SIZE)
    np.testing.assert_allclose(logp, expected, rtol=0, atol=1e-5)
    assert np.abs(np.exp(logp).sum(1) - 1).max() < 1e-5
    assert logp.argmax(1).std() > 0  # not a constant map: an untrained net still varies


@pytest.mark.nnunet
@needs_nnunet
def test_a_slice_does_not_depend_on_its_batch(models, slices):
    module = get_network(f"nnunet:{folder(models)}").module(Grid(SIZE, 1.5))
    with torch.no_grad():
        whole = module(slices)
        parts = torch.cat([module(slices[:2]), module(slices[2:3]), module(slices[3:])])
    assert torch.equal(whole, parts)


@pytest.mark.nnunet
@needs_nnunet
def test_a_model_whose_plans_transpose_gets_its_slices_in_its_axis_order(models, slices):
    trainer_folder = folder(models, "Dataset998_Transposed")
    plans = json.loads((trainer_folder / "plans.json").read_text())
    assert plans["transpose_forward"] == [2, 0, 1]  # the slice axis is stored last
    module = get_network(f"nnunet:{trainer_folder}").module(Grid(SIZE, 1.5))
    with torch.no_grad():
        logp = module(slices).numpy()
    expected = oracle(trainer_folder, slices, 1.5, last=True)[:, CHANNELS]
    np.testing.assert_allclose(logp, expected, rtol=0, atol=1e-5)


@pytest.mark.nnunet
@needs_nnunet
def test_a_3d_configuration_is_refused(models):
    with pytest.raises(DataError, match="slices need a 2d one"):
        get_network(f"nnunet:{folder(models, configuration='3d_fullres')}").module(Grid(64, 1.5))


@pytest.mark.nnunet
@needs_nnunet
@pytest.mark.parametrize("content", [b"", b"not a checkpoint"])
def test_an_unreadable_checkpoint_is_named(models, tmp_path, content):
    for name in ("plans.json", "dataset.json"):
        (tmp_path / name).write_bytes((folder(models) / name).read_bytes())
    (tmp_path / "fold_1").mkdir()
    (tmp_path / "fold_1" / "checkpoint_final.pth").write_bytes(content)
    with pytest.raises(DataError, match="cannot load the nnU-Net model"):
        get_network(f"nnunet:{tmp_path},fold=1").module(Grid(64, 1.5))
    with pytest.raises(DataError, match="cannot load the nnU-Net model"):  # no fold_2
        get_network(f"nnunet:{folder(models)},fold=2").module(Grid(64, 1.5))
