"""examples/plugins/blur.py: an artifact (and test domain) added by one file."""

import numpy as np

from oodcalib.corruptions import apply_corruption, corrupt_case
from oodcalib.datasets import load_phantom


def roughness(image: np.ndarray) -> float:
    """Mean absolute in-plane gradient: falls as the blur grows."""
    return float(np.abs(np.diff(image, axis=-1)).mean() + np.abs(np.diff(image, axis=-2)).mean())


def test_seeded_replayable_and_stronger_with_severity(plugin):
    plugin("blur")
    case = load_phantom(1, size=64)[0]
    levels = [corrupt_case(case, "blur", severity, seed=0) for severity in (1, 3, 5)]
    again = corrupt_case(case, "blur", 3, seed=0)
    assert np.array_equal(again.image, levels[1].image)
    replay = apply_corruption(case.image, "blur", levels[1].meta["corruption"]["params"])
    assert np.array_equal(replay, levels[1].image)
    unblurred = apply_corruption(case.image, "blur", {"std": [0.0, 0.0, 0.0]})
    rough = [roughness(image) for image in [unblurred, *(c.image for c in levels)]]
    assert rough == sorted(rough, reverse=True) and rough[-1] < 0.8 * rough[0]


def test_becomes_a_test_domain_counted_in_the_artifact_average(plugin, tiny_run):
    path = plugin("blur")
    results = tiny_run("eval.corruptions=spike,blur", plugins=(path,))
    assert set(results["domain"]) == {"clean", "spike", "blur"}
