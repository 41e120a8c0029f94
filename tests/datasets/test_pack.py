"""Data packs: lossless round trip, the idempotent preparation they rely on, same results."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from oodcalib.cli import app
from oodcalib.datasets.case import Case
from oodcalib.datasets.pack import check_pack, pack_info, read_pack, write_pack
from oodcalib.datasets.preprocessing import prepare_case
from oodcalib.errors import OodcalibError

runner = CliRunner()


def _cases() -> list[Case]:
    rng = np.random.default_rng(0)
    few = (rng.integers(0, 338, (3, 20, 24)) / 338).astype(np.float32)  # ACDC-like levels
    many = rng.normal(300, 80, (4, 30, 26)).astype(np.float32)  # resampled raw intensities
    label = rng.integers(0, 4, (3, 20, 24)).astype(np.uint8)
    return [
        Case("patient001", few, label, "clean", None, "a.h5", {"phase": "ES", "frame": 12}),
        Case("subject1", many, None, "lge", (np.float32(0.75), 0.7500001), "b.nii.gz", {}),
    ]


def test_pack_round_trip_is_bit_exact(tmp_path):
    cases = _cases()
    path = write_pack(tmp_path / "p.oodpack", {"source": cases[:1], "lge": cases[1:]}, {"size": 8})
    assert pack_info(path)["size"] == 8
    back = read_pack(path, "source") + read_pack(path, "lge")
    for a, b in zip(cases, back, strict=True):
        assert a.image.dtype == b.image.dtype and a.image.tobytes() == b.image.tobytes()
        assert (a.label is None and b.label is None) or np.array_equal(a.label, b.label)
        assert (a.case_id, a.domain, a.source, a.meta) == (b.case_id, b.domain, b.source, b.meta)
        assert a.spacing == b.spacing
        assert [type(v) for v in a.spacing or ()] == [type(v) for v in b.spacing or ()]
    with pytest.raises(OodcalibError, match="holds no 'val' cases"):
        read_pack(path, "val")


def test_preparing_a_prepared_case_changes_nothing():
    """What makes a pack give the folders' numbers: the run prepares the packed cases again."""
    rng = np.random.default_rng(1)
    raw = Case("s", rng.normal(300, 80, (2, 90, 70)).astype(np.float32), None, "lge", (0.74, 0.76))
    for size, spacing, input_size in ((32, 1.5, None), (40, 1.5, 20), (64, None, 32)):
        once = prepare_case(raw, size, spacing)
        direct = prepare_case(raw, size, spacing, input_size)
        again = prepare_case(once, size, spacing, input_size)
        assert again.image.tobytes() == direct.image.tobytes()
        assert again.spacing == direct.spacing


def test_a_pack_refuses_other_settings(tmp_path):
    path = write_pack(
        tmp_path / "p.oodpack",
        {"source": _cases()[:1]},
        {"phase": "ES", "size": 64, "spacing": 1.5},
    )
    assert check_pack(path, "ES", 64, 1.5)["size"] == 64
    with pytest.raises(OodcalibError, match="prepared for .*'size': 64.* needs .*'size': 192"):
        check_pack(path, "ES", 192, 1.5)
    (tmp_path / "bad.oodpack").write_text("no zip")
    with pytest.raises(OodcalibError, match="not a readable oodcalib data pack"):
        pack_info(tmp_path / "bad.oodpack")
    result = runner.invoke(app, ["pack", "--out", str(tmp_path / "x.npz")])
    assert result.exit_code == 2 and "ends in .oodpack" in result.output


@pytest.mark.data
def test_smoke_run_from_the_pack_equals_the_folders(shared_data, tmp_path):
    acdc, lge = shared_data / "ACDC", shared_data / "MSCMR_LGE"
    folders = ["--data", "acdc", "--data-root", str(acdc), "--lge-root", str(lge)]
    pack = tmp_path / "smoke.oodpack"
    made = runner.invoke(app, ["pack", "--preset", "smoke", *folders, "--out", str(pack)])
    assert made.exit_code == 0, made.output
    assert set(pack_info(pack)["groups"]) == {"source", "lge"}
    # the smoke preset, one fold and three methods: the data are what is compared
    smaller = ["data.n_folds=1", "eval.corruptions=motion", "eval.methods=uc,ts,alea"]
    common = ["run", "--preset", "smoke", "--seed", "3", "--device", "cpu"]
    common += [arg for key in smaller for arg in ("--set", key)]
    a = runner.invoke(app, [*common, *folders, "--out", str(tmp_path / "folders")])
    b = runner.invoke(app, [*common, "--data", f"pack:{pack}", "--out", str(tmp_path / "pack")])
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    first = (tmp_path / "folders" / "results.csv").read_bytes()
    assert first == (tmp_path / "pack" / "results.csv").read_bytes()
