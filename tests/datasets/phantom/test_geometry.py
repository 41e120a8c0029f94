import math

import numpy as np

from oodcalib.datasets.phantom.anatomy import sample_anatomy
from oodcalib.datasets.phantom.geometry import (
    MAX_OFFSET,
    MAX_ROTATION,
    N_SLICES,
    SLICE_GAP_MM,
    THICKNESS_MM,
    sample_geometry,
)


def _draws(n=300, size=160, spacing=1.5):
    rng = np.random.default_rng(0)
    out = []
    for _ in range(n):
        anatomy = sample_anatomy(rng)
        out.append((anatomy, sample_geometry(rng, anatomy, size, spacing)))
    return out


def test_slices_spacing_and_pose_stay_within_the_stated_ranges():
    draws = _draws()
    for anatomy, g in draws:
        assert N_SLICES[0] <= g.n_slices <= N_SLICES[1]
        assert THICKNESS_MM[0] <= g.thickness <= THICKNESS_MM[1]
        assert SLICE_GAP_MM[0] <= g.slice_gap <= SLICE_GAP_MM[1] and g.thickness <= g.slice_gap
        assert np.allclose(np.diff(g.slice_z), g.slice_gap, atol=2e-3)
        assert g.slice_z[0] <= 2 and g.slice_z[-1] >= 0.85 * anatomy.lv_length  # base to apex
        assert 1.2 - 1e-6 <= g.spacing <= 1.9 + 1e-6
        assert abs(g.rotation) <= MAX_ROTATION
        assert math.cos(anatomy.rv_angle + g.rotation) < 0  # RV on the image left
        assert math.hypot(*g.heart_xy) <= MAX_OFFSET * g.size * g.spacing + 1e-3
    spacings = np.array([g.spacing for _, g in draws])
    slices = np.array([g.n_slices for _, g in draws])
    rotations = np.degrees([g.rotation for _, g in draws])
    offsets = np.array([math.hypot(*g.heart_xy) / (g.size * g.spacing) for _, g in draws])
    assert spacings.min() < 1.3 and spacings.max() > 1.8  # the field of view varies
    assert slices.min() <= 8 and slices.max() == 12 and 8.5 < slices.mean() < 11
    assert rotations.min() < -25 and rotations.max() > 25
    assert offsets.max() > 0.1
    scales = np.array([a.scale for a, _ in draws])
    assert scales.min() < 0.85 and scales.max() > 1.15  # heart size +-20%


def test_the_nominal_spacing_scales_the_pixel_size_only():
    for (a1, g1), (a2, g2) in zip(_draws(20, 256, 1.0), _draws(20, 128, 2.0), strict=True):
        assert a1 == a2 and g1.slice_z == g2.slice_z and g1.rotation == g2.rotation
        assert math.isclose(g2.spacing, 2 * g1.spacing, rel_tol=1e-4)


def test_the_whole_heart_lies_inside_the_field_of_view(quick):
    for case in quick:
        foreground = case.label > 0
        assert foreground.any(axis=(1, 2)).sum() >= case.num_slices - 2
        border = np.zeros(case.label.shape[1:], bool)
        border[:3], border[-3:], border[:, :3], border[:, -3:] = True, True, True, True
        assert not foreground[:, border].any(), case.case_id
