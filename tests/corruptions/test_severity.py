import numpy as np
import pytest
import torchio as tio

from oodcalib.corruptions import CORRUPTIONS, DEFAULT_SEVERITY, SEVERITIES, SEVERITY_TABLE
from oodcalib.corruptions.artifacts import severity_kwargs
from oodcalib.corruptions.severity import check_severity
from oodcalib.errors import UnknownNameError

RANDOM_TRANSFORMS = {
    "bias_field": tio.RandomBiasField,
    "motion": tio.RandomMotion,
    "ghosting": tio.RandomGhosting,
    "spike": tio.RandomSpike,
}


def _ranges(transform: tio.Transform) -> dict:
    """The parsed ranges a TorchIO random transform samples from."""
    names = [n for n in vars(transform) if n.endswith("_range")]
    names += ["order", "num_transforms", "axes", "restore"]
    return {n: getattr(transform, n) for n in names if hasattr(transform, n)}


def test_table_covers_every_corruption_and_level():
    assert set(SEVERITY_TABLE) == set(CORRUPTIONS)
    for levels in SEVERITY_TABLE.values():
        assert tuple(levels) == SEVERITIES


@pytest.mark.parametrize("name", ["ghosting", "spike", "bias_field"])
def test_default_level_is_torchio_default(name):
    cls = RANDOM_TRANSFORMS[name]
    assert DEFAULT_SEVERITY == 3
    assert _ranges(cls(**severity_kwargs(name))) == _ranges(cls())


def test_default_motion_is_reference_recipe():
    ours = _ranges(tio.RandomMotion(**severity_kwargs("motion")))
    assert ours == _ranges(tio.RandomMotion(degrees=30, translation=10))
    assert ours["degrees_range"] == (-30, 30) and ours["num_transforms"] == 2


@pytest.mark.parametrize("name", CORRUPTIONS)
@pytest.mark.parametrize("level", SEVERITIES)
def test_every_level_is_valid_for_torchio(name, level):
    RANDOM_TRANSFORMS[name](**severity_kwargs(name, level))  # raises on a bad range


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("bias_field", "coefficients_range"),
        ("motion", "degrees_range"),
        ("motion", "translation_range"),
        ("ghosting", "intensity_range"),
        ("spike", "intensity_range"),
    ],
)
def test_strength_grows_with_level(name, key):
    cls = RANDOM_TRANSFORMS[name]
    ranges = [_ranges(cls(**severity_kwargs(name, lvl)))[key] for lvl in SEVERITIES]
    uppers = [hi for _, hi in ranges]
    lowers = [lo for lo, _ in ranges]
    assert np.all(np.diff(uppers) > 0), uppers
    if name in ("ghosting", "spike"):  # one-sided ranges also move up
        assert np.all(np.diff(lowers) >= 0), lowers


def test_motion_movements_never_decrease():
    counts = [severity_kwargs("motion", lvl)["num_transforms"] for lvl in SEVERITIES]
    assert counts == sorted(counts) and counts[-1] > counts[0]


@pytest.mark.parametrize("bad", [0, 6, -1, 2.5, "3", True, None])
def test_bad_severity_lists_levels(bad):
    with pytest.raises(ValueError, match="1, 2, 3, 4, 5"):
        check_severity(bad)
    with pytest.raises(ValueError, match="1, 2, 3, 4, 5"):
        severity_kwargs("motion", bad)


def test_unknown_name_lists_valid_names():
    with pytest.raises(UnknownNameError) as info:
        severity_kwargs("blur", 3)
    for name in CORRUPTIONS:
        assert name in str(info.value)


def test_kwargs_are_a_copy():
    kwargs = severity_kwargs("Bias-Field", 2)
    kwargs["coefficients"] = 99
    assert severity_kwargs("bias_field", 2)["coefficients"] == 0.25
