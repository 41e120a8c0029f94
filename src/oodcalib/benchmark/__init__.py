"""The benchmark protocol: U-Net training, inference, metrics, runner and summaries.

Modules: :mod:`~oodcalib.benchmark.unet`, :mod:`~oodcalib.benchmark.losses`,
:mod:`~oodcalib.benchmark.augmentation`, :mod:`~oodcalib.benchmark.training`,
:mod:`~oodcalib.benchmark.inference`, :mod:`~oodcalib.benchmark.metrics`,
:mod:`~oodcalib.benchmark.domains`, :mod:`~oodcalib.benchmark.evaluation`,
:mod:`~oodcalib.benchmark.runner`, :mod:`~oodcalib.benchmark.summary`.
"""
