"""examples/plugins/vector_scaling.py: a calibrator added by one file."""

import numpy as np
import torch
import torch.nn.functional as F

from oodcalib.baselines import CALIBRATORS, TemperatureScaling
from tests.baselines.common.test_calibration_sampler import tiny_unet, toy_model_scans


def nll(calibrator, scans) -> float:
    probs = np.concatenate([calibrator.predict_proba(s, None) for s in scans])
    labels = np.concatenate([s.label for s in scans]).astype(np.int64)
    return float(F.nll_loss(torch.as_tensor(probs).clamp_min(1e-12).log(), torch.as_tensor(labels)))


def test_fits_at_least_as_well_as_temperature_scaling(plugin):
    """TS is VS with w_c = 1/T and b_c = 0, so VS's calibration NLL is never above TS's."""
    plugin("vector_scaling")
    scans = toy_model_scans(tiny_unet(), 4.0, 3, seed=1)
    vs = CALIBRATORS["vector_scaling"](max_iter=200).fit(scans, None)
    ts = TemperatureScaling().fit(scans, None)
    assert nll(vs, scans) <= nll(ts, scans) + 1e-4
    assert vs.weights_.shape == vs.biases_.shape == (4,)


def test_fit_never_raises_the_calibration_nll(plugin):
    plugin("vector_scaling")
    scans = toy_model_scans(tiny_unet(), 3.0, 2, seed=2)
    vs = CALIBRATORS["vector_scaling"]().fit(scans, None)
    for scan in scans:
        y = torch.as_tensor(scan.label.astype(np.int64))
        before = F.cross_entropy(torch.as_tensor(scan.logits), y)
        after = F.nll_loss(torch.as_tensor(vs.predict_proba(scan, None)).log(), y)
        assert float(after) <= float(before) + 1e-4


def test_runs_in_the_benchmark_with_routed_hyperparameters(plugin, tiny_run):
    path = plugin("vector_scaling")
    results = tiny_run(
        "eval.methods=uc,vector_scaling", "calib.vector_scaling.max_iter=5", plugins=(path,)
    )
    assert set(results["method"]) == {"uc", "vector_scaling"}
    assert results["value"].notna().any()
