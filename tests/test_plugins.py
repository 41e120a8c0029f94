"""Plugins: a file or module imported once, filling a registry; clear errors naming the file."""

from __future__ import annotations

import re
import sys
import textwrap

import pytest

from oodcalib.errors import OodcalibError
from oodcalib.plugins import load_plugin, load_plugins
from oodcalib.segmentation.losses import LOSSES, get_loss

NAME = "toy_plugin_loss"


def plugin_source(log) -> str:
    """A plugin that registers a loss and appends one line to ``log`` per import."""
    return textwrap.dedent(f"""
        from pathlib import Path

        from oodcalib.segmentation.losses import register_loss

        with Path({str(log)!r}).open("a") as log:
            log.write("imported\\n")


        @register_loss({NAME!r})
        def toy(scale: float = 1.0):
            return lambda logits, target: scale * logits.mean()
    """)


@pytest.fixture(autouse=True)
def clean_registries():
    modules = set(sys.modules)
    yield
    LOSSES.pop(NAME, None)
    for name in set(sys.modules) - modules:
        if name.startswith("oodcalib_plugin_"):
            del sys.modules[name]


def imports(log) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_a_plugin_file_fills_the_registry_and_is_imported_once(tmp_path, monkeypatch):
    log = tmp_path / "log.txt"
    path = tmp_path / "my_plugin.py"
    path.write_text(plugin_source(log))
    assert NAME not in LOSSES
    module = load_plugin(str(path))
    assert LOSSES[NAME] is module.toy
    assert get_loss(NAME, scale=2.0) is not None
    monkeypatch.chdir(tmp_path)  # the same file, named another way
    assert load_plugin("my_plugin.py") is module
    assert load_plugins([str(path), "./my_plugin.py"]) == [module, module]
    assert imports(log) == 1


def test_two_files_with_the_same_name_are_two_plugins(tmp_path):
    first, second = tmp_path / "a" / "plugin.py", tmp_path / "b" / "plugin.py"
    for path in (first, second):
        path.parent.mkdir()
        path.write_text(f"WHERE = {path.parent.name!r}\n")
    assert [m.WHERE for m in load_plugins([str(first), str(second)])] == ["a", "b"]


def test_a_module_name_is_imported(tmp_path, monkeypatch):
    log = tmp_path / "log.txt"
    (tmp_path / "oodcalib_toy_plugin_module.py").write_text(plugin_source(log))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        module = load_plugin("oodcalib_toy_plugin_module")
        assert LOSSES[NAME] is module.toy
        assert load_plugin("oodcalib_toy_plugin_module") is module and imports(log) == 1
    finally:
        sys.modules.pop("oodcalib_toy_plugin_module", None)


def test_a_missing_file_names_the_file(tmp_path):
    missing = str(tmp_path / "nowhere.py")
    with pytest.raises(OodcalibError, match=re.escape(f"{missing}: plugin file not found")):
        load_plugin(missing)


def test_a_missing_module_names_the_module():
    with pytest.raises(OodcalibError, match="cannot import plugin module 'no_such_plugin_mod'"):
        load_plugin("no_such_plugin_mod")


@pytest.mark.parametrize(
    ("source", "cause"),
    [
        ("raise ValueError('boom')\n", "ValueError: boom"),
        ("def broken(:\n", "SyntaxError"),
        ("import no_such_dependency_xyz\n", "ModuleNotFoundError"),
    ],
)
def test_a_failing_import_names_the_file_and_the_cause(tmp_path, source, cause):
    path = tmp_path / "bad_plugin.py"
    path.write_text(source)
    with pytest.raises(OodcalibError, match=re.escape(f"{path}: plugin failed to import")) as info:
        load_plugin(str(path))
    assert cause in str(info.value)
    assert not [m for m in sys.modules if m.startswith("oodcalib_plugin_bad_plugin_")]


def test_a_fixed_file_imports_after_a_failure(tmp_path):
    log = tmp_path / "log.txt"
    path = tmp_path / "flaky.py"
    path.write_text("raise RuntimeError('not yet')\n")
    with pytest.raises(OodcalibError, match="not yet"):
        load_plugin(str(path))
    path.write_text(plugin_source(log))
    assert load_plugin(str(path)).toy is LOSSES[NAME] and imports(log) == 1
