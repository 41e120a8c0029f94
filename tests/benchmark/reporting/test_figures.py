"""Tests of the per-case figures: data against independent oracles, PNGs written.

Oracles: ``expected_calibration_error`` (ECE identity), explicit interval masks per bin,
``scipy.stats.entropy`` and hand-computed literals.
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy.stats import entropy

from oodcalib.benchmark.reporting.figures import (
    case_figures,
    entropy_map,
    error_map,
    plot_confidence_histogram,
    plot_reliability,
    reliability_data,
)
from oodcalib.errors import OodcalibError
from oodcalib.metrics import expected_calibration_error, roi_mask


def _case(seed: int, z: int = 2, c: int = 4, size: int = 16, sharp: float = 3.0):
    rng = np.random.default_rng(seed)
    label = np.zeros((z, size, size), np.int64)
    label[:, 5:11, 4:12] = rng.integers(0, c, (z, 6, 8))
    logits = sharp * rng.normal(size=(z, c, size, size))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return probs.astype(np.float32), label


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n_bins", [1, 5, 10, 15])
def test_reliability_ece_identity(seed, n_bins):
    probs, label = _case(seed)
    roi = roi_mask(label, 4)
    data = reliability_data(probs, label, roi, n_bins)
    assert list(data.columns) == [
        "bin_lower",
        "bin_upper",
        "count",
        "confidence",
        "accuracy",
        "gap",
    ]
    assert data["count"].sum() == roi.sum()
    filled = data[data["count"] > 0]
    ece = (filled["count"] * filled["gap"].abs()).sum() / filled["count"].sum()
    expected = expected_calibration_error(probs.transpose(1, 0, 2, 3), label, roi, n_bins)
    assert ece == pytest.approx(expected, abs=1e-12)


def test_reliability_bins_match_explicit_intervals():
    probs, label = _case(3, sharp=1.0)
    roi = roi_mask(label, 6)
    data = reliability_data(probs, label, roi, 10)
    conf = probs.max(axis=1)[roi].astype(np.float64)
    correct = (probs.argmax(axis=1) == label)[roi]
    for k, row in data.iterrows():
        inside = (conf > k / 10) & (conf <= (k + 1) / 10)
        assert row["count"] == inside.sum()
        assert row["bin_lower"] == pytest.approx(k / 10)
        if inside.any():
            assert row["confidence"] == pytest.approx(conf[inside].mean())
            assert row["accuracy"] == pytest.approx(correct[inside].mean())
            assert row["gap"] == pytest.approx(conf[inside].mean() - correct[inside].mean())
        else:
            assert np.isnan(row["gap"])


def test_reliability_rejects_empty_roi_and_bad_shapes():
    probs, label = _case(0)
    with pytest.raises(OodcalibError, match="empty ROI"):
        reliability_data(probs, label, np.zeros_like(label, bool))
    with pytest.raises(OodcalibError, match="label must have shape"):
        reliability_data(probs, label[0], np.ones_like(label, bool))
    with pytest.raises(OodcalibError, match=r"\(Z, C, H, W\)"):
        entropy_map(probs[0])


def test_entropy_map_matches_scipy():
    probs, _ = _case(4, c=3, sharp=1.5)
    probs[0, :, 0, 0] = [1.0, 0.0, 0.0]  # 0 log 0 = 0
    probs = probs.astype(np.float64)
    probs /= probs.sum(axis=1, keepdims=True)
    got = entropy_map(probs)
    assert got.shape == (2, 16, 16)
    np.testing.assert_allclose(got, entropy(probs, axis=1) / np.log(3), atol=1e-12)
    assert got[0, 0, 0] == 0.0 and not np.signbit(got[0, 0, 0])
    assert entropy_map(np.full((1, 4, 2, 2), 0.25)) == pytest.approx(np.ones((1, 2, 2)))


def test_error_map_hand_case():
    probs = np.array([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1]]).T.reshape(1, 3, 1, 2)
    # pixel 0: argmax 0, pixel 1: argmax 1
    assert error_map(probs, np.array([[[0, 2]]])).tolist() == [[[False, True]]]
    probs, label = _case(5)
    err = error_map(probs, label)
    assert err.dtype == bool and err.shape == label.shape
    assert err.sum() == (np.argmax(probs, axis=1) != label).sum()


def test_plots_draw_on_axes():
    probs, label = _case(6)
    roi = roi_mask(label)
    fig = Figure()
    FigureCanvasAgg(fig)
    ax1, ax2 = fig.subplots(1, 2)
    data = reliability_data(probs, label, roi)
    plot_reliability(ax1, data, "UC")
    plot_confidence_histogram(ax2, probs, roi, "UC", label=label)
    assert len(ax1.patches) == 2 * (data["count"] > 0).sum()
    ece = expected_calibration_error(probs.transpose(1, 0, 2, 3), label, roi)
    assert f"{100 * ece:.2f}%" in " ".join(t.get_text() for t in ax1.get_legend().texts)
    accuracy = (probs.argmax(axis=1) == label)[roi].mean()
    assert ax2.lines[-1].get_xdata()[0] == pytest.approx(accuracy)
    assert sum(p.get_height() for p in ax2.patches) == pytest.approx(1.0)


def test_case_figures_writes_pngs(tmp_path):
    probs, label = _case(7)
    label[1] = 0
    sharp = np.eye(4, dtype=np.float32)[label].transpose(0, 3, 1, 2) * 0.9 + 0.025
    image = np.random.default_rng(0).random(label.shape)
    paths = case_figures({"uc": probs, "mine": sharp}, image, label, tmp_path / "out", "bias_p1")
    names = [p.name for p in paths]
    assert names == [
        "bias_p1_reliability.png",
        "bias_p1_confidence.png",
        "bias_p1_entropy_error.png",
    ]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000
    with pytest.raises(OodcalibError, match="slice 5 out of 2"):
        case_figures({"uc": probs}, image, label, tmp_path, "x", slice_index=5)
    with pytest.raises(OodcalibError, match="no method"):
        case_figures({}, image, label, tmp_path, "x")


def test_reliability_right_closed_edges():
    # confidences 0.5, 1.0 and 0.7 sit exactly on edges: bins (0.4, 0.5], (0.9, 1], (0.6, 0.7]
    probs = np.array([[0.5, 1.0, 0.3], [0.5, 0.0, 0.7]]).reshape(1, 2, 1, 3)
    label = np.array([[[1, 0, 1]]])
    data = reliability_data(probs, label, np.ones((1, 1, 3), bool), 10)
    assert np.flatnonzero(data["count"]).tolist() == [4, 6, 9]
    assert data["accuracy"][[4, 6, 9]].tolist() == [0.0, 1.0, 1.0]  # argmax ties -> class 0
    assert data["gap"][[4, 6, 9]].tolist() == pytest.approx([0.5, -0.3, 0.0])
