"""Platt: per-class (one-vs-rest) logistic maps of the logits, renormalised.

Platt (1999); a post-hoc baseline of the MEEP paper (``REFERENCE.md`` section 2).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from oodcalib.baselines.base import Calibrator, ScanLogits, softmax
from oodcalib.baselines.common.calibration_pixels import calibration_pixels
from oodcalib.config.ranges import Count
from oodcalib.errors import OodcalibError


class PlattScaling(Calibrator):
    """One logistic map of its own logit per class, fitted one-vs-rest, then renormalised.

    Each class ``c`` gets ``s_c = sigmoid(a_c * z_c + b_c)`` of its logit ``z_c``, with
    ``(a_c, b_c)`` the unpenalised maximum-likelihood logistic regression of ``[y = c]``
    on ``z_c`` over the ``N`` calibration pixels (scikit-learn's ``LogisticRegression``,
    lbfgs, ``C=inf``, i.e. ``penalty=None``)::

        (a_c, b_c) = argmax sum_i [y_i = c] log s_ic + [y_i != c] log(1 - s_ic).

    A test pixel gets ``p_hat_c = s_c / sum_k s_k``, computed as
    ``softmax_c(log sigmoid(a_c z_c + b_c))`` so that sigmoids that underflow to 0 in
    every class still give probabilities. A class absent from the calibration pixels gets
    ``a_c = 0, b_c = -inf`` (``s_c = 0``); one present at every pixel ``a_c = 0,
    b_c = +inf`` (``s_c = 1``).

    Maps of different classes differ, so, unlike temperature scaling, Platt scaling does
    not preserve the argmax in general.

    Pixels: every pixel of every calibration scan (whole slices, no ROI), subsampled to
    ``max_pixels`` by the seeded rule of
    :func:`~oodcalib.baselines.common.calibration_pixels.calibration_pixels`: exactly the
    pixels TS and IR fit on with the same ``random_state``.

    Args:
        max_iter: lbfgs iterations per class.
        max_pixels: Pixels subsampled (seeded) from the calibration scans; ``None`` uses
            all of them.
        random_state: Seed of the pixel subsample (the fit is seed-independent when the
            scans have at most ``max_pixels`` pixels).

    Attributes:
        coef_: ``(K,)`` slopes ``a_c``.
        intercept_: ``(K,)`` intercepts ``b_c``.
        converged_: Whether lbfgs converged for every class within ``max_iter``.
        n_pixels_: Number of calibration pixels fitted on.
    """

    name = "platt"
    display_name = "Platt"
    parameter_ranges: ClassVar[dict[str, Any]] = {"max_iter": Count, "max_pixels": Count | None}
    #: The pixel subsample depends on ``random_state`` (as TS's does).
    deterministic = False

    def __init__(
        self, max_iter: int = 1000, max_pixels: int | None = 2_000_000, random_state: int = 0
    ):
        super().__init__(random_state)
        self.max_iter = max_iter
        self.max_pixels = max_pixels

    def fit(self, scans: Sequence[ScanLogits], model: torch.nn.Module | None) -> PlattScaling:
        """Fit ``(a_c, b_c)`` of each class by logistic regression on the calibration pixels."""
        self._refuse_bad_params()
        logits, labels = calibration_pixels(scans, self.max_pixels, self.random_state)
        num_classes = logits.shape[1]
        coef, intercept = np.zeros(num_classes), np.zeros(num_classes)
        converged = True
        for c in range(num_classes):
            target = labels == c
            if target.all() or not target.any():  # the MLE is the constant 1 or 0
                intercept[c] = np.inf if target.all() else -np.inf
                continue
            regression = LogisticRegression(C=np.inf, solver="lbfgs", max_iter=self.max_iter)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)  # reported below
                regression.fit(logits[:, c : c + 1].astype(np.float64), target)
            coef[c], intercept[c] = regression.coef_[0, 0], regression.intercept_[0]
            converged &= bool(regression.n_iter_[0] < self.max_iter)
        if not converged:
            warnings.warn(
                f"PlattScaling: lbfgs did not converge in max_iter={self.max_iter} "
                "iterations for every class",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.coef_, self.intercept_ = coef, intercept
        self.converged_, self.n_pixels_ = converged, int(len(labels))
        return self

    def _affine(self, logits: np.ndarray, axis: int) -> np.ndarray:
        """``a_c * z_c + b_c`` in float64, classes along ``axis``."""
        self._check_fitted("coef_")
        z = np.moveaxis(np.asarray(logits, np.float64), axis, -1)
        if z.shape[-1] != len(self.coef_):
            raise OodcalibError(
                f"{type(self).__name__} was fitted on {len(self.coef_)} classes, got {z.shape[-1]}"
            )
        return np.moveaxis(self.coef_ * z + self.intercept_, -1, axis)

    def one_vs_rest(self, logits: np.ndarray, axis: int = 1) -> np.ndarray:
        """``s_c = sigmoid(a_c z_c + b_c)`` (float64), before renormalisation."""
        return np.exp(-np.logaddexp(0.0, -self._affine(logits, axis)))

    def predict_proba(self, scan: ScanLogits, model: torch.nn.Module | None) -> np.ndarray:
        """``softmax_c(log sigmoid(a_c z_c + b_c))``, i.e. ``s_c / sum_k s_k``."""
        log_s = -np.logaddexp(0.0, -self._affine(scan.logits, axis=1))
        return softmax((log_s - log_s.max(axis=1, keepdims=True)).astype(np.float32))
