"""``oodcalib list``: the names every registry knows, plugins' included."""

from __future__ import annotations

from collections.abc import Iterable

import typer

from oodcalib.cli.options import PluginOpt, _fail


def list_names(plugin: PluginOpt = None) -> None:
    """List presets, data sources, methods, corruptions, losses, metrics and model kinds."""
    from oodcalib.baselines import CALIBRATORS
    from oodcalib.config import PRESETS
    from oodcalib.corruptions import CORRUPTIONS
    from oodcalib.datasets import SOURCES
    from oodcalib.errors import OodcalibError
    from oodcalib.metrics import METRICS
    from oodcalib.plugins import load_plugins
    from oodcalib.segmentation.losses import LOSSES
    from oodcalib.segmentation.networks import NETWORKS

    try:
        load_plugins(plugin or [])
    except OodcalibError as error:
        _fail(error)
    registries: list[tuple[str, Iterable[str]]] = [
        ("presets", PRESETS),
        ("data sources", SOURCES),
        ("methods", CALIBRATORS),
        ("corruptions", CORRUPTIONS),
        ("losses", LOSSES),
        ("metrics", METRICS),
        ("model kinds (--model KIND:SPEC)", NETWORKS),
    ]
    for title, names in registries:
        typer.echo(f"{title}: {', '.join(names)}")
