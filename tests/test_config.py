import json
import subprocess
import sys

import pytest

from oodcalib.config import PRESETS, Config, build_config, set_value
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
        192,
        3,
        20,
        5,
    )
    assert c.eval.repeats == 3 and c.eval.n_bins == 10 and c.eval.roi_size == 10
    assert c.eval.corruptions == ["bias_field", "motion", "ghosting", "spike"]


def test_overrides_are_typed():
    c = build_config(
        "quick",
        [
            "train.iterations=7",
            "train.lr=0.01",
            "train.augment=false",
            "data.max_test_cases=none",
            "eval.methods=ts",
            "data.source=nifti",
            "data.label_map={1: 3, 3: 1}",
        ],
    )
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


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("calib.lts.lr", "1e-4", 1e-4),
        ("calib.lts.crop", "96", 96),
        ("calib.proposed.susceptibility", "false", False),
        ("calib.ts.bounds", "(0.05, 20)", (0.05, 20)),
        ("calib.ts.max_pixels", "none", None),
        ("calib.lts.optimizer", "adam", "adam"),
        ("train.loss_params.alpha", "0.1", 0.1),
        ("train.loss_params.ce_weight", "2", 2),
        ("train.loss_params.weights", "[1, 2, 3]", [1, 2, 3]),
    ],
)
def test_set_value_into_dict_fields_parses_the_value(key, text, expected):
    config = Config()
    set_value(config, key, text)
    if key.startswith("calib."):
        _, method, name = key.split(".")
        value = config.calib[method][name]
    else:
        value = config.train.loss_params[key.split(".")[-1]]
    assert value == expected and type(value) is type(expected)


def test_dict_entries_accumulate_and_keep_non_string_values():
    config = Config()
    set_value(config, "calib.lts.lr", "1e-4")
    set_value(config, "calib.lts.width", 8)
    set_value(config, "calib.proposed.lr", "0.01")
    set_value(config, "train.loss_params.alpha", "0.1")
    set_value(config, "train.loss_params.alpha", "0.2")
    assert config.calib == {"lts": {"lr": 1e-4, "width": 8}, "proposed": {"lr": 0.01}}
    assert config.train.loss_params == {"alpha": 0.2}
    assert Config().calib == {} and Config().train.loss_params == {}  # no shared defaults


def test_overrides_merge_with_the_preset_calibrator_values():
    config = build_config("smoke", ["calib.lts.lr=1e-4", "calib.lts.width=6"])
    assert config.calib["lts"] == {
        "iterations": 2,
        "batch_size": 2,
        "crop": 32,
        "width": 6,
        "pool_size": 2,
        "lr": 1e-4,
    }
    assert "lr" not in config.calib["proposed"]
    assert "lr" not in build_config("smoke").calib["lts"]  # presets are not modified


def test_a_value_entry_cannot_hold_entries():
    with pytest.raises(OodcalibError, match=r"calib\.lts\.lr\.x.*'lr' holds a value"):
        build_config("smoke", ["calib.lts.lr=1", "calib.lts.lr.x=2"])


def test_calib_and_plugins_round_trip(tmp_path):
    config = build_config(
        "smoke",
        [
            "calib.lts.lr=1e-4",
            "calib.alea.num_aug=3",
            "calib.proposed.susceptibility=false",
            "train.loss_params.ce_weight=0.5",
            "plugins=my_plugin.py,pkg.module",
        ],
    )
    assert config.plugins == ["my_plugin.py", "pkg.module"]
    assert Config.from_dict(config.to_dict()) == config
    config.save(tmp_path / "config.json")
    loaded = Config.load(tmp_path / "config.json")
    assert loaded == config
    assert loaded.calib["alea"] == {"num_aug": 3} and loaded.plugins == config.plugins


def test_a_single_plugin_becomes_a_list():
    assert build_config("smoke", ["plugins=my_plugin.py"]).plugins == ["my_plugin.py"]


def test_presets_live_in_their_own_module_without_importing_config():
    import oodcalib.config
    import oodcalib.presets

    assert oodcalib.config.PRESETS is oodcalib.presets.PRESETS
    code = "import sys, oodcalib.presets; print('oodcalib.config' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_runs_recorded_before_compilation_read_as_eager_and_refuse_a_compiled_resume(tmp_path):
    from oodcalib.benchmark.protocol.run_record import check_config

    assert build_config("quick").model.compile and not build_config("smoke").model.compile
    recorded = build_config("quick").to_dict()
    del recorded["model"]["compile"]  # a config.json written before the key existed
    assert Config.from_dict(recorded).model.compile is False
    (tmp_path / "config.json").write_text(json.dumps({**recorded, "plugins": []}))
    with pytest.raises(OodcalibError, match="differs in model.compile"):
        check_config(build_config("quick"), tmp_path)
    check_config(build_config("quick", ["model.compile=false"]), tmp_path)
