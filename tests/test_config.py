import json

import pytest

from oodcalib.config import PRESETS, Config, build_config
from oodcalib.errors import OodcalibError, UnknownNameError


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_resolve_and_round_trip(preset, tmp_path):
    config = build_config(preset)
    config.save(tmp_path / "config.json")
    assert Config.load(tmp_path / "config.json") == config
    assert json.loads((tmp_path / "config.json").read_text())["preset"] == preset


def test_paper_preset_follows_the_reference_protocol():
    c = build_config("paper")
    assert (c.data.size, c.data.n_folds, c.data.train_per_fold, c.data.val_per_fold) == (
        192, 3, 20, 5)
    assert c.eval.repeats == 3 and c.eval.n_bins == 10 and c.eval.roi_size == 10
    assert c.eval.corruptions == ["bias_field", "motion", "ghosting", "spike"]


def test_overrides_are_typed():
    c = build_config("quick", ["train.iterations=7", "train.lr=0.01", "train.augment=false",
                               "data.max_test_cases=none", "eval.methods=ts",
                               "data.label_map={1: 3, 3: 1}"])
    assert c.train.iterations == 7 and c.train.lr == 0.01 and c.train.augment is False
    assert c.data.max_test_cases is None and c.eval.methods == ["ts"]
    assert c.data.label_map == {1: 3, 3: 1}


def test_unknown_preset_lists_valid_names():
    with pytest.raises(UnknownNameError, match="paper, quick, smoke"):
        build_config("huge")


@pytest.mark.parametrize("override", ["train.epochz=3", "nope.x=1", "iterations"])
def test_bad_override_is_explained(override):
    with pytest.raises(OodcalibError):
        build_config("smoke", [override])
