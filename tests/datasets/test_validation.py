"""Case validation: arrays without signal are flagged (a warning naming the file)."""

import numpy as np
import pytest

from oodcalib.datasets.case import Case
from oodcalib.datasets.validation import validate_case


@pytest.mark.parametrize("value", [0.0, 7.5])
def test_a_constant_image_is_flagged_with_its_file(value):
    label = np.zeros((2, 8, 8), np.uint8)
    label[:, 2:5, 2:5] = 3
    case = Case("c", np.full((2, 8, 8), value, np.float32), label, "clean", source="c.nii.gz")
    with pytest.warns(UserWarning, match=r"c\.nii\.gz: the image is constant"):
        assert validate_case(case) is case


def test_an_image_with_signal_passes_quietly(recwarn):
    label = np.zeros((2, 8, 8), np.uint8)
    label[:, 2:5, 2:5] = 3
    image = np.random.default_rng(0).random((2, 8, 8)).astype(np.float32)
    validate_case(Case("c", image, label, "clean"))
    assert not [w for w in recwarn if "constant" in str(w.message)]
