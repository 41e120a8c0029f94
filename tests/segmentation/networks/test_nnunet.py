"""``nnunet:FOLDER``: the options, the missing extra, and (with nnunetv2) a real predictor."""

from __future__ import annotations

import importlib.util
import json

import pytest

from oodcalib.errors import DataError, OodcalibError
from oodcalib.segmentation.networks import Grid, get_network, resolve_model
from oodcalib.segmentation.networks.nnunet import parse_spec, predictor_class

HAS_NNUNET = importlib.util.find_spec("nnunetv2") is not None


def test_options_are_parsed_and_the_folder_recorded_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_model("nnunet:res/2d,fold=2") == f"nnunet:{tmp_path}/res/2d,fold=2"
    assert parse_spec("r,checkpoint=checkpoint_best.pth")[1]["checkpoint"] == (
        "checkpoint_best.pth"
    )
    with pytest.raises(OodcalibError, match="fold=..."):
        parse_spec("r,folds=1")


def test_classes_come_from_the_dataset_labels(tmp_path):
    labels = {"background": 0, "LV": 1, "MYO": 2, "RV": 3}
    (tmp_path / "dataset.json").write_text(json.dumps({"labels": labels}))
    declaration = get_network(f"nnunet:{tmp_path}").declaration()
    assert declaration.classes == (0, 3, 2, 1)
    assert declaration.grid == {"data.normalisation": "none"}  # nnU-Net normalises itself
    (tmp_path / "dataset.json").write_text(json.dumps({"labels": {"background": 0, "a": 1}}))
    with pytest.raises(DataError, match="'a' is not a class"):
        get_network(f"nnunet:{tmp_path}").declaration()


@pytest.mark.skipif(HAS_NNUNET, reason="nnunetv2 is installed")
def test_without_nnunetv2_the_error_names_the_extra(tmp_path):
    with pytest.raises(OodcalibError, match=r"oodcalib\[nnunet\]"):
        predictor_class()
    (tmp_path / "dataset.json").write_text(json.dumps({"labels": {"background": 0}}))
    with pytest.raises(OodcalibError, match=r"oodcalib\[nnunet\]"):
        get_network(f"nnunet:{tmp_path}").module(Grid(64, 1.5))


@pytest.mark.nnunet
@pytest.mark.skipif(not HAS_NNUNET, reason="needs nnunetv2 (pip install 'oodcalib[nnunet]')")
def test_a_missing_model_folder_is_named_by_nnunet_kind(tmp_path):
    with pytest.raises(DataError, match="not found"):
        get_network(f"nnunet:{tmp_path / 'none'}").module(Grid(64, 1.5))
