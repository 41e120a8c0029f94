"""``predictions:DIR``: saved maps checked against their scans and brought onto the net grid."""

from __future__ import annotations

import numpy as np
import pytest

from oodcalib.datasets import Case, load_phantom
from oodcalib.datasets.preprocessing import prepare_case
from oodcalib.errors import DataError, OodcalibError
from oodcalib.segmentation.networks import Grid, get_network
from oodcalib.segmentation.networks.predictions import to_network_grid
from tests.segmentation.networks.nnunet_files import one_hot, write_nnunet


@pytest.fixture(scope="module")
def raw_case() -> Case:
    return load_phantom(1, seed=3, size=64)[0]


def _write(folder, case, probabilities=None, spacing=None):
    folder.mkdir(parents=True, exist_ok=True)
    probs = one_hot(case.label) if probabilities is None else probabilities
    r, c = spacing or case.spacing
    return write_nnunet(
        folder / case.case_id, probs.transpose(0, 2, 3, 1), np.diag([r, c, 8.0, 1.0])
    )


def test_maps_follow_the_scan_onto_the_network_grid(raw_case, tmp_path):
    grid = Grid(size=48, spacing=1.5, input_size=32)
    prepared = prepare_case(raw_case, grid.size, grid.spacing, grid.input_size)
    _write(tmp_path / "clean", raw_case)
    logits = get_network(f"predictions:{tmp_path}").logits("clean", prepared, grid)
    assert logits.shape == (prepared.num_slices, 4, 32, 32)
    probs = np.exp(logits)
    assert np.allclose(probs.sum(1), 1, atol=1e-5)
    agree = (probs.argmax(1) == prepared.label).mean()
    assert agree > 0.97  # linear maps of a one-hot vs nearest-neighbour labels: edges only


def test_a_map_on_the_network_grid_is_kept_as_is(raw_case, tmp_path):
    prepared = prepare_case(raw_case, 64, raw_case.spacing[0])  # no resampling, same side
    prepared.meta["grid"] = {"shape": list(prepared.image.shape), "spacing": None}
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(4), size=prepared.image.shape).transpose(3, 0, 1, 2)
    probs = probs.astype(np.float32)
    _write(tmp_path / "clean", prepared, probs, spacing=(1.0, 1.0))
    logits = get_network(f"predictions:{tmp_path}").logits("clean", prepared, Grid(64, 1.5))
    as_saved = probs.astype(np.float16).astype(np.float64)
    as_saved /= as_saved.sum(0)
    assert np.allclose(np.exp(logits), as_saved.transpose(1, 0, 2, 3), atol=1e-6)


def test_geometry_mismatch_and_missing_scan_name_the_file(raw_case, tmp_path):
    grid = Grid(size=64, spacing=1.5)
    prepared = prepare_case(raw_case, grid.size, grid.spacing)
    network = get_network(f"predictions:{tmp_path}")
    with pytest.raises(DataError, match=r"clean/phantom000\.npz: missing scan"):
        network.logits("clean", prepared, grid)
    assert network.missing("clean", [raw_case.case_id]) == [
        str(tmp_path / "clean" / f"{raw_case.case_id}.npz")
    ]
    _write(tmp_path / "clean", raw_case, one_hot(raw_case.label)[:, :, 1:])  # a row short
    with pytest.raises(DataError, match="geometry mismatch") as error:
        network.logits("clean", prepared, grid)
    assert str(tmp_path / "clean") in str(error.value)
    _write(tmp_path / "clean", raw_case, spacing=(2.5, 2.5))  # right shape, wrong spacing
    with pytest.raises(DataError, match="geometry mismatch"):
        network.logits("clean", prepared, grid)


def test_saved_predictions_run_no_forward_pass(tmp_path):
    model = get_network(f"predictions:{tmp_path}").module(Grid(64, 1.5))
    with pytest.raises(OodcalibError, match="carry no network"):
        model(np.zeros((1, 1, 8, 8)))


def test_to_network_grid_pads_with_background():
    probs = np.zeros((4, 1, 4, 4), np.float32)
    probs[3] = 1  # LV everywhere
    out = to_network_grid(probs, None, Grid(size=8, spacing=1.5))
    assert out.shape == (4, 1, 8, 8)
    assert (out[3, 0, 2:6, 2:6] == 1).all() and out[0, 0, 0, 0] == 1 and out[3, 0, 0, 0] == 0
