"""Example plugin: a new post-hoc calibrator, vector scaling (Guo et al., 2017).

``softmax(w * z + b)`` with one weight ``w_c`` and one bias ``b_c`` per class, fitted by
the pixel-wise NLL on the calibration scans. Unlike temperature scaling it may change the
argmax. Use it with::

    oodcalib run --plugin examples/plugins/vector_scaling.py \
        --set eval.methods=uc,ts,vector_scaling --set calib.vector_scaling.max_iter=50
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from oodcalib.baselines import CALIBRATORS, Calibrator, softmax
from oodcalib.baselines.base import require_labels


class VectorScaling(Calibrator):
    """Per-class affine map of the logits, fitted by NLL with L-BFGS.

    Args:
        max_iter: L-BFGS iterations.
        max_pixels: Calibration pixels subsampled (seeded) to bound memory.
        random_state: Seed of the subsample.

    Attributes:
        weights_: ``(C,)`` per-class weights.
        biases_: ``(C,)`` per-class biases.
    """

    name = "vector_scaling"
    display_name = "VS"

    def __init__(self, max_iter: int = 100, max_pixels: int = 500_000, random_state: int = 0):
        super().__init__(random_state)
        self.max_iter, self.max_pixels = max_iter, max_pixels

    def fit(self, scans, model) -> VectorScaling:
        """Fit ``weights_`` and ``biases_`` on the calibration scans' logits."""
        require_labels(scans)
        z = np.concatenate(
            [np.moveaxis(s.logits, 1, -1).reshape(-1, s.logits.shape[1]) for s in scans]
        )
        y = np.concatenate([s.label.reshape(-1) for s in scans])
        if len(y) > self.max_pixels:
            keep = np.random.default_rng(self.random_state).choice(
                len(y), self.max_pixels, replace=False
            )
            z, y = z[keep], y[keep]
        z, y = torch.as_tensor(z, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)
        w = torch.ones(z.shape[1], requires_grad=True)
        b = torch.zeros(z.shape[1], requires_grad=True)
        optimiser = torch.optim.LBFGS(
            [w, b], lr=0.5, max_iter=self.max_iter, line_search_fn="strong_wolfe"
        )

        def closure() -> torch.Tensor:
            optimiser.zero_grad()
            loss = F.cross_entropy(z * w + b, y)
            loss.backward()
            return loss

        optimiser.step(closure)
        self.weights_, self.biases_ = w.detach().numpy(), b.detach().numpy()
        return self

    def predict_proba(self, scan, model) -> np.ndarray:
        """``softmax(w * z + b)`` of one scan, ``(Z, C, H, W)``."""
        self._check_fitted("weights_")
        shape = (1, -1, 1, 1)
        return softmax(scan.logits * self.weights_.reshape(shape) + self.biases_.reshape(shape))


CALIBRATORS["vector_scaling"] = VectorScaling
