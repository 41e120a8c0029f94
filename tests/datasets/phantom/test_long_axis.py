import numpy as np

from oodcalib.datasets.phantom.anatomy import sample_anatomy
from oodcalib.datasets.phantom.long_axis import cross_section, profile

from .conftest import lv_leaks, mid


def _anatomies(n=50):
    rng = np.random.default_rng(3)
    return [sample_anatomy(rng) for _ in range(n)]


def test_profile_closes_the_cavity_at_the_apex_and_drops_the_rv():
    for a in _anatomies():
        t = np.linspace(0, 1.1, 23)
        p = profile(a, t * a.lv_length)
        r_endo, r_epi = p.r_endo.ravel(), p.r_epi.ravel()
        assert np.all(np.diff(r_endo[t >= 0.1]) <= 1e-4) and r_endo[t >= 1].max() == 0
        assert np.all(r_epi >= r_endo) and r_epi[-1] < r_epi[0] / 2
        assert p.rv_depth.ravel()[t >= a.rv_end].max() == 0 and p.rv_depth.ravel()[0] > 10


def _area(sd):
    return int((sd < 0).sum())


def test_basal_sections_cut_the_atria_and_open_the_ring():
    grid = np.arange(-90, 90, 1.0, dtype=np.float32)
    x, y = grid[None, :], grid[:, None]
    for a in _anatomies(20):
        z = np.array([-6.0, 0.5 * a.lv_length], np.float32)
        sec = cross_section(a, profile(a, z), x, y)
        assert sec["basal"] >= 1  # the first depth reaches the atria or the aortic root
        base_atria = _area(sec["la"][0]) + _area(sec["ra"][0]) + _area(sec["aorta"][0])
        assert base_atria > 300  # mm2 of atrial or aortic blood above the AV plane
        assert _area(sec["endo"][0]) < _area(sec["endo"][1])  # the cavity is cut
        heart = np.hypot(x, y) < a.lv_radius + a.wall + a.rv_depth
        assert (sec["side"][1][heart] < 0).all()  # mid: all ventricular


def test_apical_lv_is_smaller_than_mid_and_the_rv_vanishes(bssfp, lge, quick):
    for case in bssfp + lge + quick:
        lv_area = (case.label == 3).sum(axis=(1, 2))
        assert lv_area[-1] < 0.5 * lv_area[mid(case)], case.case_id
        assert (case.label[: mid(case) + 1] == 1).any() and not (case.label[-1] == 1).any()
        rv_area = (case.label == 1).sum(axis=(1, 2))
        late = rv_area[int(0.75 * case.num_slices) :]
        assert rv_area[mid(case)] > late.max(), case.case_id  # the crescent shrinks


def test_some_basal_slices_break_the_myocardial_ring(bssfp, lge, quick):
    opened = [
        case.case_id
        for case in bssfp + lge + quick
        if any(lv_leaks(case.label[i]) for i in range(2) if (case.label[i] == 3).any())
    ]
    assert len(opened) >= 3
