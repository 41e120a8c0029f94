"""The benchmark, in four layers that import only downward.

- :mod:`~oodcalib.metrics`: per-scan metrics and their registry ``METRICS``;
- :mod:`~oodcalib.segmentation`: the network under test (U-Net, ``LOSSES``,
  augmentation, training, inference);
- :mod:`~oodcalib.benchmark.protocol`: run data, folds, caches, runner, ablation;
- :mod:`~oodcalib.benchmark.reporting`: summary, statistics, leaderboard, figures
  (torch-free).

This package imports nothing by itself, so each layer loads only what it needs.
"""
