"""Reporting: tables, statistics and figures made from the tidy per-case results.

This package imports neither torch nor :mod:`oodcalib.baselines`: it reads results
frames and the metric registry, and receives display names as plain dicts (see
:mod:`oodcalib.benchmark.names`). Modules are imported one by one.
"""
