import numpy as np
import scipy.fft

from oodcalib.datasets.phantom.acquisition import GIBBS_KEEP, _coils, _flow, _gibbs, acquire


def test_parameters_are_recorded_in_meta(bssfp, lge):
    for case in bssfp + lge:
        acq = case.meta["acquisition"]
        gibbs = acq["gibbs"]
        assert gibbs["phase_axis"] in ("rows", "cols")
        phase = gibbs["keep"][0 if gibbs["phase_axis"] == "rows" else 1]
        assert GIBBS_KEEP[0] <= phase <= GIBBS_KEEP[1]
        assert all(k == 1.0 or GIBBS_KEEP[0] <= k <= GIBBS_KEEP[1] for k in gibbs["keep"])
        for event in acq["flow"]:
            assert 0 <= event["slice"] < case.num_slices and event["kind"] in ("void", "inflow")
            assert case.label[event["slice"]].any()  # in a slice through the heart
        assert 4 <= acq["coils"]["n_coils"] <= 8 and acq["noise_sigma"] > 0
    assert any(case.meta["acquisition"]["flow"] for case in bssfp + lge)


def test_gibbs_truncates_k_space():
    rng = np.random.default_rng(0)
    image = rng.random((2, 64, 64), dtype=np.float32)
    params = _gibbs(image, np.random.default_rng(1))
    spectrum = np.abs(scipy.fft.fft2(image))
    keep = params["keep"]
    rows = np.abs(scipy.fft.fftfreq(64)) > keep[0] / 2
    cols = np.abs(scipy.fft.fftfreq(64)) > keep[1] / 2
    outside = rows[:, None] | cols[None, :]
    assert outside.any() and spectrum[:, outside].max() < 1e-3 * spectrum.max()


def test_flow_changes_blood_only_and_coils_shade_smoothly():
    image = np.full((4, 48, 48), 100.0, np.float32)
    blood = np.zeros_like(image)
    blood[:, 10:30, 10:30] = 1
    events = _flow(image, blood, np.random.default_rng(0), px=1.5, probability=1.0)
    assert len(events) == 4
    assert np.all(image[:, 35:, 35:] == 100) and not np.all(image[:, 10:30, 10:30] == 100)
    field, params = _coils(image.shape, np.random.default_rng(0), px=5.0)
    assert field.shape == (4, 48, 48) and field.min() > 0 and params["n_coils"] >= 4
    assert abs(np.log(field[:, 18:30, 18:30]).mean()) < 0.15  # about 1 at the centre


def test_rician_noise_floor_and_determinism():
    def run(seed):
        image = np.zeros((3, 32, 32), np.float32)
        image[:, 8:24, 8:24] = 500
        params = acquire(
            image,
            np.zeros_like(image),
            np.random.default_rng(seed),
            contrast="bssfp",
            px=1.5,
            texture=(0.03, 0.05),
            sigma=20.0,
        )
        return image, params

    (a, pa), (b, pb), (c, _) = run(0), run(0), run(1)
    assert np.array_equal(a, b) and pa == pb and not np.array_equal(a, c)
    assert a.min() >= 0 and 10 < a[:, :4, :4].mean() < 40  # Rician floor of the air
