"""TS: temperature scaling (Guo et al., 2017) with one scalar T > 0 fitted by NLL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from oodcalib.baselines.base import Calibrator, ScanLogits, softmax
from oodcalib.baselines.common.calibration_pixels import calibration_pixels
from oodcalib.config.ranges import Count, Positive


class TemperatureScaling(Calibrator):
    """Divide all logits by one temperature ``T = exp(log_t) > 0``.

    ``T`` minimises the mean pixel-wise NLL of ``softmax(z / T)`` on the calibration
    scans (L-BFGS on ``log T``). Dividing by a positive scalar never changes the argmax.

    Pixels: every pixel of every calibration scan (whole slices, no ROI), subsampled to
    ``max_pixels`` with the seeded rule of
    :func:`~oodcalib.baselines.common.calibration_pixels.calibration_pixels`, shared with
    IR and Platt.

    Args:
        max_iter: L-BFGS iterations.
        max_pixels: Pixels subsampled (seeded) from the calibration scans to bound memory;
            ``None`` uses all.
        bounds: Allowed range of ``T``. Bounding ``T`` keeps the argmax exactly unchanged
            in float32: an unbounded fit on a useless model drives ``T`` to ~1e5, where
            ``z / T`` rounds distinct logits into ties.
        random_state: Seed of the pixel subsample.

    Attributes:
        temperature_: The fitted temperature.
        nll_before_: Calibration NLL at ``T = 1``.
        nll_after_: Calibration NLL at ``temperature_``.
    """

    name = "ts"
    display_name = "TS"
    parameter_ranges: ClassVar[dict[str, Any]] = {
        "max_iter": Count,
        "max_pixels": Count | None,
        "bounds": tuple[Positive, Positive],
    }

    def __init__(
        self,
        max_iter: int = 100,
        max_pixels: int | None = 2_000_000,
        bounds: tuple[float, float] = (1e-2, 1e2),
        random_state: int = 0,
    ):
        super().__init__(random_state)
        self.max_iter = max_iter
        self.max_pixels = max_pixels
        self.bounds = bounds

    def fit(self, scans: Sequence[ScanLogits], model: torch.nn.Module | None) -> TemperatureScaling:
        """Fit ``temperature_`` by NLL on the calibration scans' logits."""
        self._refuse_bad_params()
        logits, labels = calibration_pixels(scans, self.max_pixels, self.random_state)
        z = torch.as_tensor(logits, dtype=torch.float32, device="cpu")  # a scalar fit: CPU
        y = torch.as_tensor(labels, dtype=torch.long, device="cpu")
        log_t = torch.zeros(1, requires_grad=True, device="cpu")
        lo, hi = np.log(self.bounds[0]), np.log(self.bounds[1])
        optimiser = torch.optim.LBFGS(
            [log_t], lr=0.5, max_iter=self.max_iter, line_search_fn="strong_wolfe"
        )

        def closure() -> torch.Tensor:
            optimiser.zero_grad()
            loss = F.cross_entropy(z / log_t.clamp(lo, hi).exp(), y)
            loss.backward()
            return loss

        with torch.no_grad():
            self.nll_before_ = float(F.cross_entropy(z, y))
        optimiser.step(closure)
        with torch.no_grad():
            self.temperature_ = float(log_t.clamp(lo, hi).exp())
            self.nll_after_ = float(F.cross_entropy(z / self.temperature_, y))
        return self

    def predict_proba(self, scan: ScanLogits, model: torch.nn.Module | None) -> np.ndarray:
        """``softmax(z / temperature_)``."""
        self._check_fitted("temperature_")
        return softmax(scan.logits / self.temperature_)
