"""The import rule: layers import only downward, and reporting stays free of torch.

Layers, lowest first: the base modules (errors, seeding, atomic writes, plugins, config),
datasets, corruptions, metrics, segmentation, baselines, protocol, reporting, and the CLI
on top. A module may import its own layer and the layers below, never above, so no two
subpackages import each other. Imports inside functions count too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
LAYERS = [
    ("base", ["oodcalib.errors", "oodcalib.seeding", "oodcalib.atomic", "oodcalib.plugins",
              "oodcalib.config", "oodcalib.presets", "oodcalib"]),
    ("datasets", ["oodcalib.datasets"]),
    ("corruptions", ["oodcalib.corruptions"]),
    ("metrics", ["oodcalib.benchmark.metrics"]),
    ("segmentation", ["oodcalib.benchmark.segmentation"]),
    ("baselines", ["oodcalib.baselines"]),
    ("protocol", ["oodcalib.benchmark.protocol", "oodcalib.benchmark"]),
    ("reporting", ["oodcalib.benchmark.reporting"]),
    ("cli", ["oodcalib.cli", "oodcalib.__main__"]),
]


def layer_of(module: str) -> int:
    """Index of the layer owning ``module`` (the longest matching prefix wins)."""
    best, best_length = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_length:
                best, best_length = index, len(prefix)
    assert best is not None, f"{module} belongs to no layer; add it to LAYERS"
    return best


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every ``oodcalib`` import in the file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return [(line, name) for line, name in found if name.split(".")[0] == "oodcalib"]


MODULES = sorted(SRC.rglob("*.py"))


def test_every_module_belongs_to_a_layer():
    for path in MODULES:
        layer_of(module_name(path))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_imports_only_flow_downward(path):
    own = layer_of(module_name(path))
    upward = [f"line {line}: {name} ({LAYERS[layer_of(name)][0]})"
              for line, name in imported(path) if layer_of(name) > own]
    assert not upward, (f"{module_name(path)} ({LAYERS[own][0]}) imports from a higher "
                        f"layer: {'; '.join(upward)}")


def test_the_rule_catches_an_upward_import(tmp_path):
    """The checker itself: a reporting-style import in a metrics module is flagged."""
    fake = SRC / "oodcalib" / "benchmark" / "metrics" / "registry.py"
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from oodcalib.baselines import CALIBRATORS\n")
    found = imported(bad)
    assert found == [(2, "oodcalib.baselines.CALIBRATORS")]
    assert layer_of(found[0][1]) > layer_of(module_name(fake))


@pytest.mark.parametrize("package", ["oodcalib.benchmark.reporting", "oodcalib.benchmark.metrics"])
def test_torch_free_layers_import_neither_torch_nor_baselines(package):
    modules = [module_name(p) for p in MODULES if module_name(p).startswith(package)]
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "bad = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')"
            " or m.startswith('oodcalib.baselines'))\n"
            "print(','.join(bad[:5]))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "", f"{package} loads {result.stdout.strip()}"
