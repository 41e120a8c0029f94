import numpy as np
from scipy import ndimage

from oodcalib.datasets.phantom.heart import _papillary
from oodcalib.datasets.phantom.observer import SIGMA_MM, draw_label

from .conftest import exact_label, lv_leaks, mid_slices, rebuild


def test_observer_is_recorded_and_in_range(bssfp):
    for case in bssfp:
        observer = case.meta["observer"]
        assert SIGMA_MM[0] <= observer["sigma"] <= SIGMA_MM[1]
        assert np.asarray(observer["jitter"]["endo"]).shape == (case.num_slices, 7)


def test_labels_are_not_the_image_contours(bssfp):
    for case in bssfp[:3]:
        anatomy, geometry, x, y, prof = rebuild(case)
        assert np.array_equal(
            draw_label(anatomy, prof, x, y, geometry.spacing, case.meta["observer"]), case.label
        )
        exact = exact_label(case)
        foreground = (exact > 0) | (case.label > 0)
        differ = (exact != case.label)[foreground].mean()
        assert 0.03 < differ < 0.5, (case.case_id, differ)


def test_label_and_intensity_disagree_at_the_boundaries(bssfp):
    dark = []
    for case in bssfp:
        values = case.meta["intensities"]
        threshold = (values["blood_lv"] + values["myo"]) / 2
        slices = mid_slices(case)
        image, label = case.image[slices], case.label[slices]
        dark_lv = (image[label == 3] < threshold).mean()  # trabeculae, papillary, jitter
        bright_myo = (image[label == 2] > threshold).mean()
        assert 0.02 < dark_lv < 0.8 and bright_myo < 0.6, (case.case_id, dark_lv, bright_myo)
        assert dark_lv + bright_myo > 0.05, (case.case_id, dark_lv, bright_myo)
        dark.append(dark_lv)
    assert np.median(dark) < 0.5  # yet most of the labelled blood pool looks like blood


def test_papillary_muscles_are_labelled_lv(bssfp):
    checked = 0
    for case in bssfp:
        anatomy, geometry, x, y, prof = rebuild(case)
        pap = _papillary(anatomy, prof, x, y, geometry.spacing) > 0.5
        exact = exact_label(case)
        # 5 mm off the cavity's rim (where the stalks meet the wall, the observer rules)
        depth = np.stack(
            [ndimage.distance_transform_edt(e == 3, sampling=geometry.spacing) for e in exact]
        )
        inner = pap & (depth > 5)
        assert np.isin(case.label[pap], (2, 3)).all(), case.case_id
        assert (case.label[inner] == 3).mean() > 0.97, case.case_id
        values = case.meta["intensities"]
        assert values["papillary"] < (values["myo"] + values["blood_lv"]) / 2  # muscle-like
        checked += inner.sum()
    assert checked > 100


def test_myocardium_encloses_the_lv_on_mid_ventricular_slices(bssfp, lge, quick):
    for case in bssfp + lge + quick:
        slices = mid_slices(case)
        assert slices, case.case_id
        for index in slices:
            labels = case.label[index]
            assert (labels == 3).any() and not lv_leaks(labels), (case.case_id, index)


def test_the_apex_is_left_unlabelled_or_without_cavity(bssfp, lge, quick):
    last = [(case.label[-1] == 3).sum() for case in bssfp + lge + quick]
    mids = [(case.label[case.num_slices // 2] == 3).sum() for case in bssfp + lge + quick]
    assert np.median(np.array(last) / np.array(mids)) < 0.3
