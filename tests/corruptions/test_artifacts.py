import json

import numpy as np
import pytest
import torchio as tio

from oodcalib.corruptions import (
    CORRUPTIONS,
    SEVERITIES,
    apply_corruption,
    corrupt_case,
    minmax_slices,
    sample_parameters,
)
from oodcalib.datasets.case import Case
from oodcalib.errors import DataError, UnknownNameError
from oodcalib.seeding import derive_seed

FIXED = {
    "bias_field": tio.BiasField,
    "motion": tio.Motion,
    "ghosting": tio.Ghosting,
    "spike": tio.Spike,
}


def phantom(z: int = 4, size: int = 32) -> np.ndarray:
    """Bright disc in a dimmer body plus a small blob and noise; intensities differ by slice."""
    yy, xx = np.mgrid[:size, :size] / size
    r2 = (yy - 0.5) ** 2 + (xx - 0.5) ** 2
    blob = (yy - 0.35) ** 2 + (xx - 0.6) ** 2 < 0.01
    slices = [
        (50 + 10 * k) * (0.3 * (r2 < 0.16) + (r2 < (0.1 + 0.02 * k) ** 2) + 0.5 * blob)
        for k in range(z)
    ]
    noise = np.random.default_rng(0).random((z, size, size))
    return (np.stack(slices) + 2 * noise).astype(np.float32)


@pytest.fixture
def case() -> Case:
    image = phantom()
    label = (image > image.mean()).astype(np.uint8)
    return Case("patient001", image, label, "clean", spacing=(1.5, 1.5), meta={"phase": "ES"})


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_corrupt_case_is_deterministic_and_replayable(case, name):
    first = corrupt_case(case, name, severity=3, seed=0)
    second = corrupt_case(case, name, severity=3, seed=0)
    assert np.array_equal(first.image, second.image)
    assert first.meta == second.meta
    record = json.loads(json.dumps(first.meta["corruption"]))  # as stored on disk
    assert record["derived_seed"] == derive_seed(0, case.case_id, name, 3)
    assert np.array_equal(apply_corruption(case.image, name, record["params"]), first.image)


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_seed_and_case_id_change_the_draw(case, name):
    base = corrupt_case(case, name, seed=0)
    other_seed = corrupt_case(case, name, seed=1)
    assert not np.array_equal(base.image, other_seed.image)
    renamed = Case("patient002", case.image, case.label, "clean")
    assert (
        corrupt_case(renamed, name).meta["corruption"]["params"]
        != base.meta["corruption"]["params"]
    )


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_output_contract(case, name):
    image_before, meta_before = case.image.copy(), dict(case.meta)
    out = corrupt_case(case, name, severity=3, seed=0)
    assert out.image.dtype == np.float32 and out.image.shape == case.image.shape
    assert out.image.min() == 0.0 and out.image.max() == 1.0
    assert np.array_equal(out.label, case.label)
    assert out.domain == name and out.case_id == case.case_id and out.spacing == case.spacing
    assert out.meta["phase"] == "ES"
    assert set(out.meta["corruption"]) == {"name", "severity", "seed", "derived_seed", "params"}
    # the input case is left untouched
    assert np.array_equal(case.image, image_before) and case.meta == meta_before
    change = np.abs(out.image - minmax_slices(case.image)).mean()
    assert change > 0.01, f"{name} barely changed the image ({change:.4f})"


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_parameters_match_torchio_and_ranges(name):
    for seed in range(5):
        params = sample_parameters(name, 3, seed)
        assert json.loads(json.dumps(params)) == params
        assert set(params) == set(FIXED[name](**params).args_names)
        if name == "motion":
            assert np.all(np.abs(params["degrees"]) <= 30)
            assert np.all(np.abs(params["translation"]) <= 10)
            times = np.array(params["times"])
            assert times.shape == (2,) and np.all(np.diff(times) > 0)
            assert np.all((times > 0) & (times < 1))
        elif name == "ghosting":
            assert 4 <= params["num_ghosts"] <= 10 and params["axis"] in (0, 1, 2)
            assert 0.5 <= params["intensity"] <= 1 and params["restore"] is None
        elif name == "spike":
            positions = np.array(params["spikes_positions"])
            assert positions.shape == (1, 3) and np.all((positions >= 0) & (positions < 1))
            assert 1 <= params["intensity"] <= 3
        else:
            coefficients = np.array(params["coefficients"])
            assert params["order"] == 3 and coefficients.shape == (20,)
            assert np.all(np.abs(coefficients) <= 0.5)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("bias_field", {"coefficients": [0.0] * 20, "order": 3}),
        ("ghosting", {"num_ghosts": 4, "axis": 0, "intensity": 0.0, "restore": None}),
        ("spike", {"spikes_positions": [[0.2, 0.3, 0.4]], "intensity": 0.0}),
    ],
)
def test_null_artifact_is_the_normalisation_recipe(case, name, params):
    """A zero-strength transform leaves per-slice min-max, then the global rescale."""
    clean = minmax_slices(case.image)
    assert np.allclose(apply_corruption(case.image, name, params), clean, atol=1e-6)


def test_null_motion_is_nearly_identity(case):
    params = {
        "degrees": [[0.0] * 3] * 2,
        "translation": [[0.0] * 3] * 2,
        "times": [0.3, 0.7],
        "image_interpolation": "linear",
    }
    clean = minmax_slices(case.image)
    assert np.allclose(apply_corruption(case.image, "motion", params), clean, atol=1e-4)


def test_first_torchio_axis_is_the_slice_axis():
    """The authors' order (Z, H, W): a spike on the DC plane of axis 0 adds the same
    pattern to every slice, one off it differs between slices."""
    stack = np.repeat(phantom(1), 4, axis=0)
    same = apply_corruption(stack, "spike", {"spikes_positions": [[0.5, 0.3, 0.7]], "intensity": 2})
    assert np.allclose(same, same[:1], atol=1e-5)
    mixed = apply_corruption(
        stack, "spike", {"spikes_positions": [[0.0, 0.3, 0.7]], "intensity": 2}
    )
    assert np.abs(mixed - mixed[:1]).max() > 0.05


def test_minmax_slices_normalises_each_slice():
    out = minmax_slices(phantom())
    assert out.dtype == np.float32
    assert np.allclose(out.min(axis=(1, 2)), 0) and np.allclose(out.max(axis=(1, 2)), 1)


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_severity_is_monotone(name):
    image = phantom()
    clean = minmax_slices(image)
    change = [
        np.mean(
            [
                np.abs(
                    apply_corruption(image, name, sample_parameters(name, level, seed)) - clean
                ).mean()
                for seed in range(8)
            ]
        )
        for level in SEVERITIES
    ]
    assert np.all(np.diff(change) >= 0), change
    assert change[-1] > 1.5 * change[0], change


def test_unknown_name_lists_valid_names(case):
    for call in (
        lambda: corrupt_case(case, "blur"),
        lambda: sample_parameters("blur", 3, 0),
        lambda: apply_corruption(case.image, "blur", {}),
    ):
        with pytest.raises(UnknownNameError) as info:
            call()
        assert all(name in str(info.value) for name in CORRUPTIONS)


def test_names_are_normalised(case):
    assert np.array_equal(
        corrupt_case(case, "Bias-Field").image, corrupt_case(case, "bias_field").image
    )
    assert list(CORRUPTIONS) == ["bias_field", "motion", "ghosting", "spike"]


@pytest.mark.parametrize("severity", [0, 6])
def test_bad_severity(case, severity):
    with pytest.raises(ValueError, match="1, 2, 3, 4, 5"):
        corrupt_case(case, "motion", severity=severity)


def test_bad_inputs(case):
    with pytest.raises(ValueError, match="keys"):
        apply_corruption(case.image, "spike", {"intensity": 1.0})
    with pytest.raises(DataError, match="Z, H, W"):
        apply_corruption(case.image[0], "spike", sample_parameters("spike", 3, 0))
    broken = case.with_arrays(np.full_like(case.image, np.nan), source="broken.nii.gz")
    with pytest.raises(DataError, match="broken.nii.gz"):
        corrupt_case(broken, "spike")
