import json

import numpy as np
import pytest
from scipy import ndimage

from oodcalib.datasets.phantom import load_phantom

SIZE = 96


@pytest.fixture(scope="module")
def bssfp():
    return load_phantom(4, seed=0, size=SIZE)


@pytest.fixture(scope="module")
def lge():
    return load_phantom(6, seed=0, contrast="lge", size=SIZE)


def _mid(case):
    return (case.num_slices - 1) // 2


def test_same_seed_is_bit_identical_and_seed_matters(bssfp):
    again = load_phantom(2, seed=0, size=SIZE)
    other = load_phantom(2, seed=1, size=SIZE)
    for a, b, c in zip(bssfp[:2], again, other, strict=True):
        assert np.array_equal(a.image, b.image) and np.array_equal(a.label, b.label)
        assert a.meta == b.meta
        assert a.image.shape != c.image.shape or not np.array_equal(a.image, c.image)


def test_case_depends_only_on_its_index(bssfp):
    (third,) = load_phantom(1, seed=0, size=SIZE, first_index=2)
    assert third.case_id == "phantom002"
    assert np.array_equal(third.image, bssfp[2].image)
    assert np.array_equal(third.label, bssfp[2].label)


def test_shapes_dtypes_ids_domain_spacing(bssfp, lge):
    assert [c.case_id for c in bssfp] == ["phantom000", "phantom001", "phantom002", "phantom003"]
    assert [c.case_id for c in lge[:2]] == ["lge_phantom000", "lge_phantom001"]
    for case in bssfp + lge:
        z = case.num_slices
        assert 6 <= z <= 12
        assert case.image.shape == case.label.shape == (z, SIZE, SIZE)
        assert case.image.dtype == np.float32 and case.label.dtype == np.uint8
        assert set(np.unique(case.label).tolist()) <= {0, 1, 2, 3}
        assert np.isfinite(case.image).all() and case.image.min() >= 0
        assert 200 < case.image.max() < 3000  # scanner-like scale, not normalised
        assert case.spacing == (1.5, 1.5)
        json.dumps(case.meta)  # JSON-serialisable provenance
    assert {c.domain for c in bssfp} == {"clean"} and {c.domain for c in lge} == {"lge"}
    assert bssfp[3].source == "phantom(seed=0, contrast=bssfp, index=3)"
    assert "lv_radius" in bssfp[0].meta["anatomy"]
    (custom,) = load_phantom(1, size=40, spacing=2.0, domain="mine")
    assert custom.domain == "mine" and custom.spacing == (2.0, 2.0)
    assert custom.image.shape[1:] == (40, 40)


def test_mid_slice_has_all_classes_and_closed_myocardium(bssfp, lge):
    for case in bssfp + lge:
        mid = case.label[_mid(case)]
        assert set(np.unique(mid).tolist()) == {0, 1, 2, 3}, case.case_id
        lv = mid == 3
        padded = np.pad(mid, 1)
        for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            neighbour = np.roll(padded, (dy, dx), axis=(0, 1))[1:-1, 1:-1]
            assert np.isin(neighbour[lv], (2, 3)).all(), case.case_id  # LV touches only MYO
        filled = ndimage.binary_fill_holes(mid == 2)
        assert filled[lv].all()
        assert ndimage.label(lv)[1] == 1  # one blood pool (papillary muscles are LV)


def test_rv_lies_on_the_image_left_of_the_lv(bssfp, lge):
    for case in bssfp + lge:
        mid = case.label[_mid(case)]
        rv_col = np.argwhere(mid == 1)[:, 1].mean()
        lv_col = np.argwhere(mid == 3)[:, 1].mean()
        assert rv_col < lv_col, case.case_id


def test_base_to_apex_shrinks_and_rv_vanishes(bssfp, lge):
    for case in bssfp + lge:
        lv_area = (case.label == 3).sum(axis=(1, 2))
        assert lv_area[0] > lv_area[-1]
        assert (case.label[0] == 1).any() and not (case.label[-1] == 1).any()


def test_anatomy_has_physical_size():
    (fine,) = load_phantom(1, seed=5, size=256, spacing=1.0)
    (coarse,) = load_phantom(1, seed=5, size=128, spacing=2.0)
    assert fine.meta["anatomy"] == coarse.meta["anatomy"]
    mm2_fine = (fine.label[0] == 3).sum() * 1.0
    mm2_coarse = (coarse.label[0] == 3).sum() * 4.0
    assert mm2_coarse == pytest.approx(mm2_fine, rel=0.1)
    radius = np.sqrt(mm2_fine / np.pi)  # equivalent basal LV cavity radius in mm
    assert 15 < radius < 32


def _blood_myo_ratio(cases):
    ratios = []
    for case in cases:
        sl = slice(1, case.num_slices - 1)
        image, label = case.image[sl], case.label[sl]
        ratios.append(image[label == 3].mean() / image[label == 2].mean())
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
    for case in scarred:
        first, last = case.meta["anatomy"]["scar"][3:]
        image, label = case.image[first : last + 1], case.label[first : last + 1]
        blood = np.median(image[label == 3])
        assert np.percentile(image[label == 2], 99) > blood  # scar brighter than blood
    for case in plain:
        blood = np.median(case.image[case.label == 3])
        assert np.percentile(case.image[case.label == 2], 99) < 1.5 * blood


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
