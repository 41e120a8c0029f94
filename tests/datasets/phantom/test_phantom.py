import json

import numpy as np
import pytest
from scipy import ndimage

from oodcalib.datasets.phantom import load_phantom

from .conftest import SIZE, exact_label, mid


def test_same_seed_is_bit_identical_and_seed_matters(bssfp, lge):
    again = load_phantom(2, seed=0, size=SIZE)
    other = load_phantom(2, seed=1, size=SIZE)
    for a, b, c in zip(bssfp[:2], again, other, strict=True):
        assert np.array_equal(a.image, b.image) and np.array_equal(a.label, b.label)
        assert a.meta == b.meta
        assert a.image.shape != c.image.shape or not np.array_equal(a.image, c.image)
        assert a.meta["anatomy"] != c.meta["anatomy"]
        assert a.meta["acquisition"] != c.meta["acquisition"]
    (late,) = load_phantom(1, seed=0, size=SIZE, contrast="lge")
    assert np.array_equal(late.image, lge[0].image) and late.meta == lge[0].meta


def test_case_depends_only_on_its_index(bssfp):
    (third,) = load_phantom(1, seed=0, size=SIZE, first_index=2)
    assert third.case_id == "phantom002"
    assert np.array_equal(third.image, bssfp[2].image)
    assert np.array_equal(third.label, bssfp[2].label)


def test_shapes_dtypes_ids_domain_spacing(bssfp, lge):
    assert [c.case_id for c in bssfp[:4]] == [
        "phantom000",
        "phantom001",
        "phantom002",
        "phantom003",
    ]
    assert [c.case_id for c in lge[:2]] == ["lge_phantom000", "lge_phantom001"]
    for case in bssfp + lge:
        z = case.num_slices
        assert 6 <= z <= 12
        assert case.image.shape == case.label.shape == (z, SIZE, SIZE)
        assert case.image.dtype == np.float32 and case.label.dtype == np.uint8
        assert set(np.unique(case.label).tolist()) <= {0, 1, 2, 3}
        assert np.isfinite(case.image).all() and case.image.min() >= 0
        assert 200 < case.image.max() < 3000  # scanner-like scale, not normalised
        row, col = case.spacing  # in-plane (row, col) pixel size, varying per case
        assert row == col == case.meta["geometry"]["spacing"] and 1.2 <= row <= 1.9
        json.dumps(case.meta)  # JSON-serialisable provenance
    assert len({c.spacing for c in bssfp}) == len(bssfp)
    assert {c.domain for c in bssfp} == {"clean"} and {c.domain for c in lge} == {"lge"}
    assert bssfp[3].source == "phantom(seed=0, contrast=bssfp, index=3)"
    for key in ("anatomy", "geometry", "observer", "acquisition", "intensities", "slice_t"):
        assert key in bssfp[0].meta
    assert "lv_radius" in bssfp[0].meta["anatomy"]
    (custom,) = load_phantom(1, size=40, spacing=2.0, domain="mine")
    assert custom.domain == "mine" and 1.6 <= custom.spacing[0] <= 2.0 * 1.9 / 1.5
    assert custom.image.shape[1:] == (40, 40)


def test_mid_slice_has_all_classes(bssfp, lge):
    for case in bssfp + lge:
        assert set(np.unique(case.label[mid(case)]).tolist()) == {0, 1, 2, 3}, case.case_id


def test_rv_lies_on_the_image_left_of_the_lv(bssfp, lge):
    for case in bssfp + lge:
        labels = case.label[mid(case)]
        rv_col = np.argwhere(labels == 1)[:, 1].mean()
        lv_col = np.argwhere(labels == 3)[:, 1].mean()
        assert rv_col < lv_col, case.case_id


def test_anatomy_has_physical_size():
    (fine,) = load_phantom(1, seed=5, size=256, spacing=1.0)
    (coarse,) = load_phantom(1, seed=5, size=128, spacing=2.0)
    assert fine.meta["anatomy"] == coarse.meta["anatomy"]
    assert fine.meta["geometry"]["slice_z"] == coarse.meta["geometry"]["slice_z"]
    assert coarse.spacing[0] == pytest.approx(2 * fine.spacing[0], rel=1e-3)
    mm2_fine = (fine.label == 3).sum(axis=(1, 2)) * fine.spacing[0] ** 2
    mm2_coarse = (coarse.label == 3).sum(axis=(1, 2)) * coarse.spacing[0] ** 2
    assert mm2_coarse.max() == pytest.approx(mm2_fine.max(), rel=0.1)
    radius = np.sqrt(mm2_fine.max() / np.pi)  # equivalent largest LV cavity radius in mm
    assert 12 < radius < 32


def _blood_myo_ratio(cases):
    ratios = []
    for case in cases:
        sl = slice(1, case.num_slices - 1)
        image, label = case.image[sl], case.label[sl]
        ratios.append(np.median(image[label == 3]) / np.median(image[label == 2]))
    return np.array(ratios)


def test_contrasts_differ_in_blood_to_myocardium_ratio(bssfp, lge):
    cine, late = _blood_myo_ratio(bssfp), _blood_myo_ratio(lge)
    assert (cine > 1.5).all()
    assert (late > 1.0).all()  # nulled myocardium darker than blood in LGE too
    assert cine.mean() > late.mean()


def test_lge_scar_is_bright_and_labelled_myocardium(lge):
    scarred = [c for c in lge if c.meta["anatomy"]["scar"] is not None]
    plain = [c for c in lge if c.meta["anatomy"]["scar"] is None]
    assert scarred and plain  # about half the LGE cases have a scar

    def bright_core(case, slices):
        """Myocardium (off its rim, on the image's contours) brighter than the blood."""
        image, label = case.image[slices], case.label[slices]
        exact = exact_label(case)[slices]
        core = ndimage.binary_erosion(exact == 2, np.ones((1, 3, 3)))
        bright = core & (image > 1.4 * np.median(image[exact == 3]))
        return bright.sum() / core.sum(), label[bright]

    for case in scarred:
        slices = case.meta["scar_slices"]
        share, labels = bright_core(case, slices)
        assert slices and share > 0.005, case.case_id
        assert (labels == 2).mean() >= 0.5, case.case_id  # the scar is labelled myocardium
    for case in plain:
        assert case.meta["scar_slices"] == []
        assert bright_core(case, slice(None))[0] < 0.005, case.case_id


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_cases": 0}, "n_cases"),
        ({"size": 31}, "size"),
        ({"spacing": 0.0}, "spacing"),
        ({"contrast": "t2"}, "bssfp.*lge"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_phantom(**kwargs)
