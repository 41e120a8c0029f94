from dataclasses import replace

import numpy as np

from oodcalib.datasets.phantom.anatomy import sample_anatomy
from oodcalib.datasets.phantom.phenotype import MAX_LV_RADIUS, PHENOTYPES, apply_phenotype


def _draw(n=200, scar_probability=0.0):
    rng = np.random.default_rng(7)
    out = []
    for _ in range(n):
        normal = sample_anatomy(rng, scar_probability=scar_probability)
        out.append((normal, *apply_phenotype(rng, normal, scar_probability=scar_probability)))
    return out


def test_each_group_changes_the_heart_as_described():
    draws = _draw()
    groups = [g for _, g, _ in draws]
    assert {g: groups.count(g) for g in PHENOTYPES}.keys() == set(PHENOTYPES)
    assert min(groups.count(g) for g in PHENOTYPES) >= 20  # about 1/5 each
    for normal, group, a in draws:
        assert a.phenotype == group
        if group == "normal":
            assert a == replace(normal, phenotype="normal")
        elif group == "dilated":
            assert a.lv_radius > normal.lv_radius and a.wall < normal.wall
            assert a.lv_radius <= MAX_LV_RADIUS
        elif group == "hypertrophic":
            assert a.lv_radius < normal.lv_radius and a.wall > 1.3 * normal.wall
        elif group == "infarct":
            assert a.thinning is not None and a.scar is None  # scars only where asked
        else:
            assert a.rv_depth > 1.3 * normal.rv_depth and a.rv_end >= normal.rv_end


def test_an_infarct_shows_its_scar_in_lge():
    for _, group, a in _draw(100, scar_probability=0.5):
        if group == "infarct":
            assert a.scar is not None and a.scar[:2] == a.thinning[:2]
