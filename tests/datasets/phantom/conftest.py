import numpy as np
import pytest
from scipy import ndimage

from oodcalib.datasets.phantom import load_phantom
from oodcalib.datasets.phantom.anatomy import Anatomy
from oodcalib.datasets.phantom.geometry import Geometry
from oodcalib.datasets.phantom.long_axis import profile
from oodcalib.datasets.phantom.observer import draw_label
from oodcalib.datasets.phantom.render import heart_frame

SIZE = 128


@pytest.fixture(scope="session")
def bssfp():
    return load_phantom(6, seed=0, size=SIZE)


@pytest.fixture(scope="session")
def lge():
    return load_phantom(6, seed=0, contrast="lge", size=SIZE)


@pytest.fixture(scope="session")
def quick():
    """Cases at the quick preset's size (160 px), where the whole heart fits in the FOV."""
    return load_phantom(8, seed=1, size=160)


def mid(case) -> int:
    return (case.num_slices - 1) // 2


def mid_slices(case) -> list[int]:
    """Mid-ventricular slices: between 30% and 65% of the way from base to apex."""
    t = np.asarray(case.meta["slice_t"])
    return np.flatnonzero((t >= 0.3) & (t <= 0.65)).tolist()


def lv_leaks(labels: np.ndarray) -> bool:
    """Whether a 4-connected path from the LV reaches a non-LV pixel without crossing MYO."""
    labels = np.pad(labels, 1)  # the outside of the image is background
    parts, _ = ndimage.label(labels != 2)  # 4-connectivity
    reached = np.unique(parts[labels == 3])
    return bool(np.isin(parts, reached[reached > 0]).sum() > (labels == 3).sum())


def rebuild(case):
    """The case's anatomy, geometry, pixels in the heart frame and profile at its slices."""
    anatomy = Anatomy(**case.meta["anatomy"])
    geometry = Geometry(**case.meta["geometry"])
    x, y = heart_frame(geometry)
    return anatomy, geometry, x, y, profile(anatomy, np.asarray(geometry.slice_z))


def exact_label(case) -> np.ndarray:
    """The case's label as drawn on the image's own contours (no observer effects)."""
    anatomy, geometry, x, y, prof = rebuild(case)
    n = len(prof.t)
    jitter = {k: np.zeros((n, 7)).tolist() for k in ("endo", "epi", "rv")}
    observer = {
        "sigma": 0.0,
        "jitter": jitter,
        "smoothing": 1.0,
        "plane_shift": 0.0,
        "min_ring": 0.0,
        "lvot_as_lv": True,
        "min_cavity": 0.0,
        "min_heart": 0.0,
    }
    return draw_label(anatomy, prof, x, y, geometry.spacing, observer)
