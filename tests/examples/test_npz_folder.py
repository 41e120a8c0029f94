"""examples/plugins/npz_folder.py: a data source added by one file."""

import numpy as np
import pytest

from oodcalib.config import build_config
from oodcalib.datasets import load_phantom, load_source
from oodcalib.errors import DataError


def write_cases(folder, n: int = 10):
    folder.mkdir(parents=True, exist_ok=True)
    for case in load_phantom(n, size=64, seed=3):
        np.savez(
            folder / f"{case.case_id}.npz",
            image=case.image,
            label=case.label,
            spacing=np.array(case.spacing or (1.5, 1.5)),
        )


def test_reads_the_cases_as_written(plugin, tmp_path):
    plugin("npz_folder")
    write_cases(tmp_path / "data", 3)
    config = build_config("smoke", ["data.source=npz_folder", f"data.root={tmp_path / 'data'}"])
    cases = load_source(config.data)
    originals = load_phantom(3, size=64, seed=3)
    assert [c.case_id for c in cases] == [c.case_id for c in originals]
    for case, original in zip(cases, originals, strict=True):
        np.testing.assert_array_equal(case.image, original.image)
        np.testing.assert_array_equal(case.label, original.label)


def test_bad_files_are_named(plugin, tmp_path):
    plugin("npz_folder")
    config = build_config("smoke", ["data.source=npz_folder", f"data.root={tmp_path}"])
    with pytest.raises(DataError, match="no .npz files"):
        load_source(config.data)
    np.savez(tmp_path / "broken.npz", image=np.zeros((1, 8, 8)))
    with pytest.raises(DataError, match="broken.npz"):
        load_source(config.data)


def test_feeds_the_benchmark(plugin, tiny_run, tmp_path):
    path = plugin("npz_folder")
    write_cases(tmp_path / "data")
    results = tiny_run("data.source=npz_folder", f"data.root={tmp_path / 'data'}", plugins=(path,))
    assert results["case"].str.startswith("phantom").all() and len(results) > 0
