"""Plugins: a file or module imported once, filling a registry; clear errors naming the file."""

from __future__ import annotations

import re
import sys
import textwrap

import pytest

from oodcalib.errors import OodcalibError
from oodcalib.plugins import PluginError, load_plugin, load_plugins, plugin_call, plugin_of
from oodcalib.segmentation.losses import LOSS_NAMES, LOSSES, get_loss

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


def _write(tmp_path, source: str, name: str = "override_plugin.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            """
            from oodcalib.baselines import CALIBRATORS, Uncalibrated
            CALIBRATORS["ts"] = Uncalibrated
            """,
            "plugin replaces the registered method 'ts' (CALIBRATORS); a plugin may do so "
            'only if it declares OVERRIDE = {"CALIBRATORS": ["ts"]}',
        ),
        (
            """
            from oodcalib.baselines import CALIBRATORS
            del CALIBRATORS["ts"]
            """,
            "plugin removes the registered method 'ts' (CALIBRATORS)",
        ),
        (
            """
            from oodcalib.segmentation.losses import register_loss
            @register_loss("ce")
            def my_ce():
                return None
            """,
            "plugin replaces the registered loss 'ce' (LOSSES)",
        ),
        (
            """
            from oodcalib.metrics import METRICS
            METRICS["ece"] = METRICS["sce"]
            """,
            "plugin replaces the registered metric 'ece' (METRICS)",
        ),
        (
            """
            from oodcalib.baselines import CALIBRATORS, Uncalibrated
            CALIBRATORS["ts"] = Uncalibrated
            OVERRIDE = ["ts"]
            """,
            "OVERRIDE must map registry names to lists of names",
        ),
        (
            """
            OVERRIDE = {"CALIBRATOR": ["ts"]}
            """,
            "OVERRIDE names unknown registry CALIBRATOR; valid: CALIBRATORS, CORRUPTIONS",
        ),
    ],
)
def test_replacing_a_registered_name_needs_a_declaration(tmp_path, source, message):
    from oodcalib.baselines import CALIBRATORS, TemperatureScaling
    from oodcalib.metrics import METRICS

    before = {"ts": CALIBRATORS["ts"], "ece": METRICS["ece"], "ce": LOSSES["ce"]}
    names = dict(LOSS_NAMES)
    path = _write(tmp_path, source)
    with pytest.raises(OodcalibError, match=re.escape(f"{path}: {message}")):
        load_plugin(str(path))
    assert CALIBRATORS["ts"] is TemperatureScaling  # the registries are as they were
    assert {"ts": CALIBRATORS["ts"], "ece": METRICS["ece"], "ce": LOSSES["ce"]} == before
    assert LOSS_NAMES == names  # and the display names kept beside them
    assert not [m for m in sys.modules if m.startswith("oodcalib_plugin_override_plugin_")]


def test_a_declared_override_replaces_the_name(tmp_path):
    from oodcalib.baselines import CALIBRATORS, TemperatureScaling, Uncalibrated

    path = _write(
        tmp_path,
        """
        from oodcalib.baselines import CALIBRATORS, Uncalibrated

        CALIBRATORS["ts"] = Uncalibrated
        CALIBRATORS["my_ts"] = Uncalibrated  # an addition needs no declaration
        OVERRIDE = {"CALIBRATORS": ("ts",)}
        """,
    )
    try:
        load_plugin(str(path))
        assert CALIBRATORS["ts"] is Uncalibrated and CALIBRATORS["my_ts"] is Uncalibrated
    finally:
        CALIBRATORS["ts"] = TemperatureScaling
        CALIBRATORS.pop("my_ts", None)


def test_a_plugin_calling_sys_exit_is_reported(tmp_path):
    path = _write(tmp_path, "import sys\nsys.exit(3)\n", "exiting.py")
    with pytest.raises(PluginError, match=re.escape(f"{path}: plugin called sys.exit(3)")):
        load_plugin(str(path))


class _Boom:
    """A plugin's calibrator, as far as plugin_of can tell (its module is not the package's)."""

    __module__ = "my_lab.calibrators"


def test_plugin_call_names_the_plugin_and_the_step():
    with pytest.raises(
        PluginError,
        match=r"^plugin my_lab.calibrators: method 'boom' fit failed "
        r"\(ValueError: bad\)$",
    ):
        with plugin_call(_Boom(), "method 'boom' fit"):
            raise ValueError("bad")
    with pytest.raises(PluginError, match=r"predict called sys.exit\(4\)$"):
        with plugin_call(_Boom, "method 'boom' predict"):
            sys.exit(4)
    with pytest.raises(OodcalibError, match="^its own clear message$") as info:
        with plugin_call(_Boom(), "method 'boom' fit"):
            raise OodcalibError("its own clear message")
    assert not isinstance(info.value, PluginError)


def test_package_code_raises_as_it_would():
    from oodcalib.baselines import TemperatureScaling

    assert plugin_of(TemperatureScaling()) is None
    with pytest.raises(ValueError, match="^a bug$"):
        with plugin_call(TemperatureScaling(), "method 'ts' fit"):
            raise ValueError("a bug")


def test_a_plugins_classes_are_named_by_the_plugin(tmp_path):
    path = _write(tmp_path, "class Mine:\n    pass\n", "named.py")
    module = load_plugin(str(path))
    assert plugin_of(module.Mine) == str(path) and plugin_of(module.Mine()) == str(path)
