"""The import rules: each folder is a layer, imports flow downward, and no module circles.

Layers, lowest first: the base modules (errors, seeding, atomic writes, plugins, config),
datasets, corruptions, metrics, segmentation, baselines, the benchmark (its run layout
and display names, then protocol and reporting side by side, which never import each
other), and the CLI on top. A module may import its own layer and the layers below,
never above. No two modules import each other, directly or round a longer circle.
Imports inside functions and relative imports count too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
#: (name, rank, module prefixes): a module may import ranks <= its own, and within one
#: rank only its own layer (protocol and reporting share a rank and stay apart).
LAYERS = [
    (
        "base",
        0,
        [
            "oodcalib.errors",
            "oodcalib.seeding",
            "oodcalib.atomic",
            "oodcalib.plugins",
            "oodcalib.config",
            "oodcalib.presets",
            "oodcalib",
        ],
    ),
    ("datasets", 1, ["oodcalib.datasets"]),
    ("corruptions", 2, ["oodcalib.corruptions"]),
    ("metrics", 3, ["oodcalib.metrics"]),
    ("segmentation", 4, ["oodcalib.segmentation"]),
    ("baselines", 5, ["oodcalib.baselines"]),
    ("benchmark", 6, ["oodcalib.benchmark"]),
    ("protocol", 7, ["oodcalib.benchmark.protocol"]),
    ("reporting", 7, ["oodcalib.benchmark.reporting"]),
    ("cli", 8, ["oodcalib.cli", "oodcalib.__main__"]),
]


def layer_of(module: str) -> int:
    """Index in :data:`LAYERS` of the layer owning ``module`` (longest matching prefix)."""
    best, best_length = None, -1
    for index, (_, _, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_length:
                best, best_length = index, len(prefix)
    assert best is not None, f"{module} belongs to no layer; add it to LAYERS"
    return best


def may_import(importer: str, imported_module: str) -> bool:
    """Whether ``importer``'s layer may import ``imported_module``'s."""
    own, other = layer_of(importer), layer_of(imported_module)
    return own == other or LAYERS[other][1] < LAYERS[own][1]


def module_name(path: Path, root: Path = SRC) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, root: Path = SRC) -> list[tuple[int, str]]:
    """(line, dotted name) of every ``oodcalib`` import in the file, at any depth.

    Relative imports are resolved against the file's package.
    """
    own = module_name(path, root)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found += [(node.lineno, f"{base}.{a.name}") for a in node.names]
    return [(line, name) for line, name in found if name.split(".")[0] == "oodcalib"]


MODULES = sorted(SRC.rglob("*.py"))
NAMES = {module_name(p) for p in MODULES}


def target_module(name: str, modules: set[str] = NAMES) -> str:
    """The module an imported dotted name lives in (``pkg.mod.func`` -> ``pkg.mod``)."""
    while name not in modules and "." in name:
        name = name.rpartition(".")[0]
    return name


def import_graph(paths: list[Path], root: Path = SRC) -> dict[str, set[str]]:
    """``{module: modules it imports}``, every import of the files counted."""
    modules = {module_name(p, root) for p in paths}
    return {
        module_name(p, root): {target_module(n, modules) for _, n in imported(p, root)}
        - {module_name(p, root)}
        for p in paths
    }


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_belongs_to_a_layer():
    for path in MODULES:
        layer_of(module_name(path))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_imports_only_flow_downward(path):
    own = module_name(path)
    upward = [
        f"line {line}: {name} ({LAYERS[layer_of(name)][0]})"
        for line, name in imported(path)
        if not may_import(own, name)
    ]
    assert not upward, (
        f"{own} ({LAYERS[layer_of(own)][0]}) imports from a higher or "
        f"sibling layer: {'; '.join(upward)}"
    )


def test_no_module_imports_itself_round_a_circle():
    assert circles(import_graph(MODULES)) == []


def test_the_rules_catch_an_upward_a_sibling_and_a_relative_import(tmp_path):
    """The checker itself, on a fake package: each kind of bad import is flagged."""
    metrics = "oodcalib.metrics.registry"
    bad = tmp_path / "oodcalib" / "metrics" / "bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "def f():\n    from oodcalib.baselines import CALIBRATORS\n"
        "from ..benchmark.reporting import leaderboard\n"
    )
    found = sorted(imported(bad, tmp_path))
    assert found == [
        (2, "oodcalib.baselines.CALIBRATORS"),
        (3, "oodcalib.benchmark.reporting.leaderboard"),
    ]
    assert not may_import(metrics, found[0][1]) and not may_import(metrics, found[1][1])
    assert not may_import(
        "oodcalib.benchmark.protocol.runner", "oodcalib.benchmark.reporting.leaderboard"
    )
    assert may_import("oodcalib.benchmark.reporting.leaderboard", "oodcalib.benchmark.layout")


def test_the_circle_check_finds_a_circle_behind_a_function_level_import(tmp_path):
    package = tmp_path / "oodcalib" / "pkg"
    package.mkdir(parents=True)
    (package / "a.py").write_text("from oodcalib.pkg.b import g\n")
    (package / "b.py").write_text("def g():\n    from oodcalib.pkg.c import h\n")
    (package / "c.py").write_text("from . import a\n")
    (package / "d.py").write_text("from oodcalib.pkg import a\n")
    paths = sorted(package.glob("*.py"))
    assert circles(import_graph(paths, tmp_path)) == [
        ["oodcalib.pkg.a", "oodcalib.pkg.b", "oodcalib.pkg.c"]
    ]


@pytest.mark.parametrize(
    "package",
    [
        "oodcalib.benchmark.reporting",
        "oodcalib.metrics",
        "oodcalib.benchmark.layout",
        "oodcalib.benchmark.names",
    ],
)
def test_torch_free_layers_import_neither_torch_nor_baselines(package):
    modules = [module_name(p) for p in MODULES if module_name(p).startswith(package)]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')"
        " or m.startswith('oodcalib.baselines'))\n"
        "print(','.join(bad[:5]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", f"{package} loads {result.stdout.strip()}"
