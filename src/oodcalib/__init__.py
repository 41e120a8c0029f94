"""oodcalib: calibration of medical image segmentation under domain shift.

The package is laid out by concept:

- :mod:`oodcalib.datasets`: sources of 3D short-axis cases, preprocessing and splits.
- :mod:`oodcalib.corruptions`: seeded, replayable TorchIO MRI artifacts.
- :mod:`oodcalib.baselines`: every calibrator (the entrants of the benchmark).
- :mod:`oodcalib.benchmark`: the protocol: U-Net training, metrics, runner.
"""

__version__ = "0.2.0"
