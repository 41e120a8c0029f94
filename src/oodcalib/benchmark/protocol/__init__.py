"""The benchmark protocol: run data, folds, caches, hyperparameter routing, runner, ablation.

Modules are imported one by one (this package imports nothing on its own), so the
torch-free ones (:mod:`~oodcalib.benchmark.layout`) stay light for reporting.
"""
