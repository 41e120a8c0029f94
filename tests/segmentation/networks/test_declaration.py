"""The sidecar of a foreign network: its grid, normalisation and class map."""

from __future__ import annotations

import json

import pytest

from oodcalib.errors import DataError
from oodcalib.segmentation.networks.declaration import parse_classes, read_declaration


def _write(path, **keys):
    path.write_text(json.dumps(keys))
    return path


def test_declaration_sets_the_data_keys(tmp_path):
    path = _write(
        tmp_path / "net.json",
        size=160,
        spacing=1.5,
        input_size=96,
        normalisation="zscore",
        classes=["background", "LV", "MYO", "RV"],
    )
    declared = read_declaration(path, ("size", "classes"))
    assert declared.grid == {
        "data.size": 160,
        "data.spacing": 1.5,
        "data.input_size": 96,
        "data.normalisation": "zscore",
    }
    assert declared.classes == (0, 3, 2, 1) and declared.num_channels == 4


def test_a_sidecar_without_input_size_feeds_the_crop_itself(tmp_path):
    declared = read_declaration(_write(tmp_path / "net.json", size=128, spacing=1.25))
    assert declared.grid == {"data.size": 128, "data.spacing": 1.25, "data.input_size": None}


def test_channels_may_share_a_class_and_codes_are_accepted():
    assert parse_classes([0, "rv", "Myo", "LV", "background"], "x.json") == (0, 1, 2, 3, 0)


@pytest.mark.parametrize(
    ("classes", "needle"),
    [
        (["background", "RV", "MYO"], "LV"),  # K = 3 channels leave LV uncovered
        (["background", "RV", "MYO", "aorta"], "aorta"),
        ([0, 1, 2, 7], "7"),
        ("background,RV", "list"),
    ],
)
def test_class_maps_that_do_not_cover_the_classes_name_the_file(tmp_path, classes, needle):
    path = _write(tmp_path / "net.json", classes=classes)
    with pytest.raises(DataError, match=needle) as error:
        read_declaration(path)
    assert str(path) in str(error.value)


def test_missing_unknown_and_unreadable_sidecars_name_the_file(tmp_path):
    with pytest.raises(DataError, match="sidecar not found"):
        read_declaration(tmp_path / "none.json")
    with pytest.raises(DataError, match="unknown key"):
        read_declaration(_write(tmp_path / "a.json", colour="red"))
    with pytest.raises(DataError, match="missing key.*spacing"):
        read_declaration(_write(tmp_path / "b.json", size=8), ("size", "spacing"))
    (tmp_path / "c.json").write_text("{not json")
    with pytest.raises(DataError, match="unreadable"):
        read_declaration(tmp_path / "c.json")
