from dataclasses import replace

import numpy as np

from oodcalib.datasets.phantom.render import MID_VENTRICLE, render_anatomy

from .conftest import rebuild


def _draw(case, thickness):
    anatomy, geometry, *_ = rebuild(case)
    geometry = replace(geometry, thickness=thickness)
    meta = case.meta
    return render_anatomy(
        anatomy, geometry, meta["intensities"], meta["observer"], np.random.default_rng(0)
    )


def test_image_averages_the_slab_and_label_is_its_centre(quick):
    for case in quick[:4]:
        thick, label, blood = _draw(case, case.meta["geometry"]["thickness"])
        thin, thin_label, _ = _draw(case, 0.0)
        assert np.array_equal(label, thin_label) and np.array_equal(label, case.label)
        assert blood.min() >= 0 and blood.max() <= 1 and (blood[label == 3] > 0.5).mean() > 0.5
        t = np.asarray(case.meta["slice_t"])
        edge = (t < MID_VENTRICLE[0]) | (t > MID_VENTRICLE[1])
        changed = np.abs(thick - thin).max(axis=(1, 2)) > 1.0
        assert np.array_equal(changed, edge), case.case_id  # partial volume at base and apex
