"""Atomic writes: the expected content, created folders, and no damage when a writer fails."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest
import torch

from oodcalib.atomic import atomic_write, save_torch, write_csv, write_json, write_text


def test_write_text_writes_utf8(tmp_path):
    path = write_text(tmp_path / "a.txt", "Alea. ∗ † ‡\nline 2")
    assert path == tmp_path / "a.txt"
    assert path.read_bytes() == "Alea. ∗ † ‡\nline 2".encode()


def test_write_json_is_indented_json_with_a_final_newline(tmp_path):
    obj = {"b": [1, 2.5, None], "a": {"nested": True}, "text": "é"}
    path = write_json(tmp_path / "x.json", obj)
    assert path.read_text(encoding="utf-8") == json.dumps(obj, indent=2) + "\n"
    sorted_path = write_json(tmp_path / "sorted.json", obj, sort_keys=True)
    assert sorted_path.read_text() == json.dumps(obj, indent=2, sort_keys=True) + "\n"
    assert json.loads(path.read_text()) == obj


def test_write_csv_equals_the_dataframe_csv_without_index(tmp_path):
    frame = pd.DataFrame(
        {"method": ["uc", "lts"], "value": [0.125, float("nan")], "case": ["p 1", "p,2"]},
        index=[7, 9],
    )
    path = write_csv(tmp_path / "r.csv", frame)
    assert path.read_text() == frame.to_csv(index=False)
    pd.testing.assert_frame_equal(pd.read_csv(path), frame.reset_index(drop=True))


def test_save_torch_round_trips(tmp_path):
    obj = {"state": torch.arange(4.0), "epoch": 3}
    path = save_torch(tmp_path / "c.pt", obj)
    loaded = torch.load(path)
    assert loaded["epoch"] == 3 and torch.equal(loaded["state"], obj["state"])


def test_atomic_write_creates_parent_folders(tmp_path):
    target = tmp_path / "a" / "b" / "c.bin"
    assert atomic_write(target, lambda f: f.write(b"\x00\x01")) == target
    assert target.read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in target.parent.iterdir()) == ["c.bin"]


def test_atomic_write_replaces_an_existing_file(tmp_path):
    target = write_text(tmp_path / "a.txt", "old, longer content")
    write_text(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_a_failing_writer_leaves_the_file_and_no_temporary_file(tmp_path, error):
    target = write_text(tmp_path / "keep.txt", "original")

    def half_then_fail(handle):
        handle.write(b"partial")
        raise error("disk full")

    with pytest.raises(error, match="disk full"):
        atomic_write(target, half_then_fail)
    assert target.read_text() == "original"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_a_failing_writer_creates_no_file(tmp_path):
    target = tmp_path / "sub" / "new.csv"
    with pytest.raises(AttributeError):
        write_csv(target, object())  # not a DataFrame
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_get_the_permissions_of_the_users_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        paths = [
            write_text(tmp_path / "a.txt", "x"),
            write_json(tmp_path / "sub" / "b.json", {}),
            write_csv(tmp_path / "c.csv.gz", pd.DataFrame({"x": [1]})),
            save_torch(tmp_path / "d.pt", torch.zeros(1)),
        ]
        write_text(tmp_path / "a.txt", "overwritten")  # a rewrite gets them too
    finally:
        os.umask(old)
    assert {p.name: p.stat().st_mode & 0o777 for p in paths} == {p.name: mode for p in paths}
    assert (tmp_path / "sub").stat().st_mode & 0o777 == 0o777 & ~umask
    assert sorted(p.name for p in tmp_path.rglob(".*")) == []  # no temporary file left
