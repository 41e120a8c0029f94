"""Fixtures for the worked extension examples in ``examples/plugins``.

``plugin(name)`` imports one example the way ``--plugin`` does, and restores every
registry afterwards, so no other test sees the example's entries. ``tiny_run`` runs the
benchmark end to end in seconds (smoke preset, one fold).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from oodcalib.baselines import CALIBRATORS
from oodcalib.benchmark.protocol.runner import run_benchmark
from oodcalib.config import build_config
from oodcalib.corruptions import CORRUPTIONS
from oodcalib.datasets import SOURCES
from oodcalib.metrics import METRICS
from oodcalib.plugins import load_plugin
from oodcalib.segmentation.losses import LOSSES

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plugins"
REGISTRIES = (CALIBRATORS, LOSSES, METRICS, CORRUPTIONS, SOURCES)
#: The smallest end-to-end run: smoke preset, one fold, two test scans, UC only.
TINY = [
    "data.n_folds=1",
    "data.phantom_cases=10",
    "data.max_test_cases=2",
    "eval.repeats=1",
    "eval.methods=uc",
    "eval.corruptions=spike",
    "eval.cross_sequence=false",
]


@pytest.fixture
def plugin():
    """``plugin("blur")`` imports ``examples/plugins/blur.py``; registries are restored."""
    saved = [dict(registry) for registry in REGISTRIES]
    yield lambda name: (load_plugin(str(EXAMPLES / f"{name}.py")), str(EXAMPLES / f"{name}.py"))[1]
    for registry, before in zip(REGISTRIES, saved, strict=True):
        registry.clear()
        registry.update(before)
    for module in [m for m in sys.modules if m.startswith("oodcalib_plugin_")]:
        del sys.modules[module]


@pytest.fixture
def tiny_run(tmp_path):
    """``tiny_run(*overrides, plugins=[...])`` -> tidy results of a seconds-long run."""

    def run(*overrides: str, plugins: tuple[str, ...] = ()):
        config = build_config("smoke", [*TINY, *overrides])
        config.plugins = list(plugins)
        return run_benchmark(config, tmp_path / "run")

    return run
