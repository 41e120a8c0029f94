"""One intra-op thread for the loss tests.

The tensors here are tiny; on a busy machine, waking a thread pool for each softmax, pooling
or convolution costs milliseconds per call, far more than the work itself.
"""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
