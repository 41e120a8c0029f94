"""Intensity normalisations by name, checked against numpy oracles."""

from __future__ import annotations

import numpy as np
import pytest

from oodcalib.datasets import Case
from oodcalib.datasets.intensity import NORMALISATIONS, normalise_case
from oodcalib.errors import UnknownNameError


def test_each_normalisation_matches_its_definition():
    image = np.random.default_rng(0).gamma(2.0, 50.0, size=(3, 16, 16)).astype(np.float32)
    case = Case("a", image, None, "x")
    z = normalise_case(case, "zscore").image
    assert np.allclose(z, (image - image.mean()) / image.std(), atol=1e-5)
    lo, hi = np.percentile(image, [0.5, 99.5])
    robust = normalise_case(case, "robust").image
    assert np.allclose(robust, (np.clip(image, lo, hi) - lo) / (hi - lo), atol=1e-6)
    assert np.array_equal(normalise_case(case, "none").image, image)
    assert all(normalise_case(case, n).image.dtype == np.float32 for n in NORMALISATIONS)


def test_an_unknown_normalisation_lists_the_valid_ones():
    with pytest.raises(UnknownNameError, match="robust, zscore"):
        normalise_case(Case("a", np.zeros((1, 2, 2), np.float32), None, "x"), "minmax")
