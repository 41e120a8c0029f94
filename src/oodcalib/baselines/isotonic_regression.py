"""IR: per-class (one-vs-rest) isotonic regression of the softmax, renormalised.

Zadrozny & Elkan (2002); a post-hoc baseline of the MEEP paper (``REFERENCE.md`` section 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.isotonic import IsotonicRegression

from oodcalib.baselines.base import Calibrator, ScanLogits, softmax
from oodcalib.baselines.common.calibration_pixels import calibration_pixels
from oodcalib.config.ranges import Count
from oodcalib.errors import OodcalibError


class IsotonicRegressionCalibrator(Calibrator):
    """One non-decreasing map per class, fitted one-vs-rest, then renormalised.

    With ``p = softmax(z)``, each class ``c`` gets the isotonic fit (scikit-learn's
    ``IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)``) of its indicator on
    its own probability over the ``N`` calibration pixels::

        f_c = argmin_{f non-decreasing, 0 <= f <= 1} sum_i (f(p_ic) - [y_i = c])^2

    ``f_c`` is linear between its thresholds ``(x_thresholds_[c], y_thresholds_[c])`` and
    constant beyond them. A test pixel gets::

        q_c = f_c(p_c),    p_hat_c = q_c / sum_k q_k.

    Zero-sum rule: a pixel where every class maps to ``q_k = 0`` (possible when each
    ``f_c`` is 0 over the low end of its range) keeps its uncalibrated softmax,
    ``p_hat = p``, there.

    Maps of different classes move differently, so, unlike temperature scaling, IR does
    not preserve the argmax in general.

    Pixels: every pixel of every calibration scan (whole slices, no ROI), subsampled to
    ``max_pixels`` by the seeded rule of
    :func:`~oodcalib.baselines.common.calibration_pixels.calibration_pixels`: exactly the
    pixels TS and Platt fit on with the same ``random_state``.

    Args:
        max_pixels: Pixels subsampled (seeded) from the calibration scans; ``None`` uses
            all of them.
        random_state: Seed of the pixel subsample (the fit is seed-independent when the
            scans have at most ``max_pixels`` pixels).

    Attributes:
        x_thresholds_: Per class, the float64 increasing input thresholds of ``f_c``.
        y_thresholds_: Per class, the float64 non-decreasing values of ``f_c`` there.
        n_pixels_: Number of calibration pixels fitted on.
    """

    name = "ir"
    display_name = "IR"
    parameter_ranges: ClassVar[dict[str, Any]] = {"max_pixels": Count | None}
    #: The pixel subsample depends on ``random_state`` (as TS's does).
    deterministic = False

    def __init__(self, max_pixels: int | None = 2_000_000, random_state: int = 0):
        super().__init__(random_state)
        self.max_pixels = max_pixels

    def fit(
        self, scans: Sequence[ScanLogits], model: torch.nn.Module | None
    ) -> IsotonicRegressionCalibrator:
        """Fit one isotonic map per class on the calibration pixels' softmax."""
        logits, labels = calibration_pixels(scans, self.max_pixels, self.random_state)
        p = softmax(logits, axis=1).astype(np.float64)
        x_thresholds, y_thresholds = [], []
        for c in range(p.shape[1]):
            regressor = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
            regressor.fit(p[:, c], (labels == c).astype(np.float64))
            x_thresholds.append(np.asarray(regressor.X_thresholds_, np.float64))
            y_thresholds.append(np.asarray(regressor.y_thresholds_, np.float64))
        self.x_thresholds_, self.y_thresholds_ = x_thresholds, y_thresholds
        self.n_pixels_ = int(len(labels))
        return self

    def one_vs_rest(self, probabilities: np.ndarray, axis: int = 1) -> np.ndarray:
        """``q_c = f_c(p_c)`` for each class along ``axis``, before renormalisation.

        Equals scikit-learn's ``IsotonicRegression.predict`` (``np.interp`` with the clip
        at both ends, in float64).

        Returns:
            float64 array of the shape of ``probabilities``.
        """
        self._check_fitted("x_thresholds_")
        p = np.moveaxis(np.asarray(probabilities, np.float64), axis, 0)
        if len(p) != len(self.x_thresholds_):
            raise OodcalibError(
                f"{type(self).__name__} was fitted on "
                f"{len(self.x_thresholds_)} classes, got {len(p)}"
            )
        q = np.stack(
            [
                np.interp(p_c, x, y)
                for p_c, x, y in zip(p, self.x_thresholds_, self.y_thresholds_, strict=True)
            ]
        )
        return np.moveaxis(q, 0, axis)

    def predict_proba(self, scan: ScanLogits, model: torch.nn.Module | None) -> np.ndarray:
        """``q / sum_k q_k`` with ``q_c = f_c(softmax(z)_c)``; ``softmax(z)`` where the sum is 0."""
        self._check_fitted("x_thresholds_")
        p = softmax(scan.logits)
        q = self.one_vs_rest(p)
        total = q.sum(axis=1, keepdims=True)
        empty = total <= 0
        return np.where(empty, p, q / np.where(empty, 1.0, total)).astype(np.float32)
