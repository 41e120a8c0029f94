"""``oodcalib inspect``: the table and the contact sheet of a synthetic NIfTI set."""

from __future__ import annotations

import subprocess
import sys

import nibabel as nib
import numpy as np
from typer.testing import CliRunner

from oodcalib.cli import app
from oodcalib.datasets.case import Case
from oodcalib.datasets.inspection import inspection_table
from tests.datasets.test_plausibility import _heart, _relabel

runner = CliRunner()


def _write_set(root, swapped: bool) -> str:
    affine = np.diag([1.25, 1.25, 8.0, 1.0])  # (H, W, Z) stored, thick slices last
    for i in range(3):
        label = _heart(slices=5).transpose(1, 2, 0)
        if swapped:
            label = _relabel(label, (3, 2, 1))
        image = (label * 100 + i).astype(np.float32)
        nib.save(nib.Nifti1Image(image, affine), str(root / f"p{i}_img.nii.gz"))
        nib.save(nib.Nifti1Image(label.astype(np.int16), affine), str(root / f"p{i}_lab.nii.gz"))
    return f"data.nifti_images={root}/*_img.nii.gz", f"data.nifti_labels={root}/*_lab.nii.gz"


def test_inspect_prints_a_row_per_case_and_writes_the_sheet(tmp_path):
    images, labels = _write_set(tmp_path, swapped=False)
    sheet = tmp_path / "sheet.png"
    result = runner.invoke(
        app,
        [
            "inspect",
            "--data",
            "nifti",
            "--set",
            images,
            "--set",
            labels,
            "--set",
            "data.orientation=stored",
            "--out",
            str(sheet),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.strip().startswith("p")]
    assert len(lines) == 3 and all(line.rstrip().endswith("yes") for line in lines)
    assert "1.25x1.25" in result.output and "3 cases" in result.output
    assert sheet.stat().st_size > 5_000


def test_inspect_warns_on_swapped_classes_and_strict_fails(tmp_path):
    images, labels = _write_set(tmp_path, swapped=True)
    args = [
        "inspect",
        "--data",
        "nifti",
        "--set",
        images,
        "--set",
        labels,
        "--out",
        str(tmp_path / "s.png"),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and "swapped? best (3, 2, 1)" in result.output
    assert "data.label_map={1: 3, 2: 2, 3: 1}" in result.output
    strict = runner.invoke(app, [*args, "--strict"])
    assert strict.exit_code == 2 and "3 of 3 labelled cases" in strict.output


def test_inspect_shows_a_test_domain_spec(tmp_path):
    images, labels = (s.split("=", 1)[1] for s in _write_set(tmp_path, swapped=False))
    sheet = tmp_path / "domain.png"
    result = runner.invoke(
        app,
        [
            "inspect",
            "--out",
            str(sheet),
            "--domain",
            f"vendor_b=source=nifti; images={images}; labels={labels}; "
            "orientation=stored; kind=vendor",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "3 cases" in result.output and sheet.stat().st_size > 5_000
    rows = [line.split() for line in result.output.splitlines() if line.strip().startswith("p")]
    assert [row[1] for row in rows] == ["vendor_b"] * 3  # the domain, not "clean"
    assert "case ids: the text each wildcard of the images glob matched" in result.output
    bad = runner.invoke(app, ["inspect", "--domain", "v=source=nifti; colour=red"])
    assert bad.exit_code == 2 and "colour" in bad.output


def test_inspect_prints_a_warning_as_one_line(tmp_path):
    image = np.zeros((8, 8, 2), np.float32)  # constant: a warning, not an error
    nib.save(nib.Nifti1Image(image, np.diag([1.5, 1.5, 8.0, 1.0])), str(tmp_path / "c.nii.gz"))
    args = ["--data", "nifti", "--set", f"data.nifti_images={tmp_path}/*.nii.gz"]
    result = subprocess.run(  # a process of its own: pytest records warnings in its own
        [sys.executable, "-m", "oodcalib", "inspect", *args, "--out", str(tmp_path / "s.png")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stderr.splitlines() == [
        f"warning: {tmp_path}/c.nii.gz: the image is constant (0 everywhere): it carries no signal"
    ]


def test_the_table_shows_an_unknown_spacing_as_a_dash():
    # the preprocessed ACDC HDF5 files carry no pixel size (Case.spacing is None)
    case = Case("p1", np.zeros((2, 4, 4), np.float32), None, "clean")
    assert inspection_table([case])["spacing_mm"].tolist() == ["-"]
