"""Options shared by the commands, and the helpers they use (config, names, errors, dask).

Only light imports at module level: the package imports this module to build the app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

DataOpt = Annotated[
    str,
    typer.Option(
        "--data",
        help="Training data: phantom, acdc, nifti, or pack:FILE (a data pack made by "
        "`oodcalib pack`, its LGE domain included).",
    ),
]
RootOpt = Annotated[Path | None, typer.Option("--data-root", help="ACDC folder (--data acdc).")]
LgeOpt = Annotated[Path | None, typer.Option("--lge-root", help="MS-CMRSeg LGE folder.")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Config override key=value.")]
PluginOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--plugin",
        help="Python file or module that adds calibrators, losses, metrics, "
        "corruptions or data sources to the registries (repeatable).",
    ),
]
DomainOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--domain",
        help="Extra test domain NAME=SPEC (repeatable); SPEC is key=value pairs "
        "separated by ';' (source, images, labels, root, label_map, kind, frame, "
        "patient_pattern, exclude_patients, ...) or a JSON file.",
    ),
]
ExcludeOpt = Annotated[
    bool,
    typer.Option(
        "--exclude-patients",
        help="Drop from each --domain the patients whose scans trained "
        "or calibrated a net (patient ids from each side's patient_pattern).",
    ),
]
DeviceOpt = Annotated[
    str,
    typer.Option(
        "--device",
        help="Where the networks run: auto (CUDA when torch sees a GPU, else the CPU), cpu, "
        "cuda, cuda:N or mps. A run resumes, and its nets are reused, only on the device kind "
        "it recorded (auto: that kind).",
    ),
]
#: Values that follow a list option without repeating it (``--num-aug 15 45 90``): click
#: hands them over as extra positional arguments after RUN_DIR.
MoreOpt = Annotated[list[str] | None, typer.Argument(hidden=True, show_default=False)]


def _config(
    preset: str,
    data: str,
    data_root: Path | None,
    lge_root: Path | None,
    overrides: list[str] | None,
    seed: int | None,
    plugins: list[str] | None = None,
):
    from oodcalib.config import build_config, refuse_repeated_keys
    from oodcalib.plugins import load_plugins

    if data.startswith("pack:"):  # the pack is the source and, if it holds one, the LGE domain
        from oodcalib.datasets.pack import pack_info

        data, data_root = "pack", Path(data.removeprefix("pack:"))
        if lge_root is None and "lge" in pack_info(data_root)["groups"]:
            lge_root = data_root
    extra = [f"data.source={data}"]
    if data_root is not None:
        extra.append(f"data.root={data_root}")
    if lge_root is not None:
        extra.append(f"data.lge_root={lge_root}")
    if seed is not None:
        extra.append(f"seed={seed}")
    # --data's default (phantom) is no choice: a --set data.source may replace it
    refuse_repeated_keys([*extra[data == "phantom" :], *(overrides or [])])
    config = build_config(preset, [*extra, *(overrides or [])])
    absolute_paths(config)
    # plugin files are recorded with absolute paths, so later commands find them anywhere
    config.plugins = [
        *config.plugins,
        *(str(Path(p).resolve()) if p.endswith(".py") else p for p in plugins or []),
    ]
    load_plugins(config.plugins)
    return config


def absolute_paths(config) -> None:
    """Store data roots and globs as absolute paths, so later commands work from anywhere."""
    from oodcalib.config import PATH_KEYS, absolute_path

    for key in PATH_KEYS:
        value = getattr(config.data, key)
        if value:
            setattr(config.data, key, absolute_path(value))


def _writable(path: Path, what: str = "output folder", file: bool = False) -> Path:
    """Refuse an output that cannot be written, before any work (one line, exit code 2).

    A folder output must not be an existing file; a file output (``file=True``) must
    not be an existing folder; the nearest existing folder must be writable.
    """
    import os

    from oodcalib.errors import OodcalibError

    path = Path(path)
    if path.exists() and path.is_dir() == file:
        kind = "a folder" if file else "a file"
        raise OodcalibError(
            f"{path}: the {what} is {kind} that already exists; give "
            f"{'a file path' if file else 'a folder'}"
        )
    probe = path.parent if file else path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise OodcalibError(f"{path}: cannot create the {what}: {probe} is a file")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OodcalibError(f"{path}: cannot write the {what}: {probe} is not writable")
    return path


def _domains(specs: list[str] | None, exclude: bool = False) -> dict:
    """``{name: spec}`` of the ``--domain NAME=SPEC`` options (see ``domain_spec``)."""
    from oodcalib.datasets.domain_spec import parse_domain
    from oodcalib.errors import OodcalibError

    domains = {}
    for text in specs or []:
        name, spec = parse_domain(text)
        if name in domains:
            raise OodcalibError(f"--domain {name} is given twice")
        if exclude:
            spec.setdefault("exclude_patients", "train")
        domains[name] = spec
    return domains


def _names(run_dir: Path) -> dict:
    """Display names and orders for reporting: the registries, the run's domains."""
    from oodcalib.benchmark.names import domain_kinds, domain_names, method_names
    from oodcalib.config import Config
    from oodcalib.plugins import load_plugins

    config = None
    if (Path(run_dir) / "config.json").is_file():
        config = Config.load(Path(run_dir) / "config.json")
        load_plugins(config.plugins)
    return {
        "names": method_names(config),
        "domains": domain_names(config),
        "kinds": domain_kinds(config),
    }


def one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    line: str | None = None,
) -> str:
    r"""A warning as the CLI prints it: ``warning: <message>``, one line, no source line.

    Example:
        >>> one_line_warning(UserWarning("x.nii.gz: constant image"), UserWarning, "a.py", 3)
        'warning: x.nii.gz: constant image\n'
    """
    return f"warning: {message}\n"


def _fail(error: Exception) -> NoReturn:
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


def _select_device(run_dir: Path, device: str):
    """Check ``--device`` of a command that reuses a run's nets, before any work.

    The run's recorded device kind (``config.json``) is the only one allowed (``auto``:
    that kind); ``cuda:N`` makes GPU N the one ``cuda`` means in this process.

    Returns:
        The torch device chosen.
    """
    from oodcalib.benchmark.protocol.placement import choose_device
    from oodcalib.config import Config

    path = Path(run_dir) / "config.json"
    recorded = Config.load(path).device if path.is_file() else None
    chosen = choose_device(device, recorded, run_dir)
    if chosen.type == "cuda" and chosen.index is not None:
        import torch

        torch.cuda.set_device(chosen.index)
    return chosen


def _gpu_client(gpus: int):
    """A dask client of ``gpus`` workers, one per GPU, each seeing only its own GPU.

    dask-cuda's ``LocalCUDACluster`` when it is installed; otherwise distributed's
    ``SpecCluster`` of ``gpus`` single-threaded nanny workers, worker ``i`` started with
    ``CUDA_VISIBLE_DEVICES`` set to the ``i``-th GPU this process sees. Inside a worker,
    ``cuda`` is therefore that worker's GPU. Close it with :func:`_close_client`.
    """
    import os

    import torch

    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = visible.split(",") if visible else [str(i) for i in range(torch.cuda.device_count())]
    if gpus > len(ids):
        raise ValueError(f"--gpus {gpus}: this machine has {len(ids)} CUDA GPU(s)")
    try:
        from dask.distributed import Client, Nanny, Scheduler, SpecCluster
    except ImportError as error:  # pragma: no cover - optional dependency
        raise ValueError("--gpus needs dask: pip install 'oodcalib[distributed]'") from error
    try:
        from dask_cuda import LocalCUDACluster

        cluster = LocalCUDACluster(CUDA_VISIBLE_DEVICES=ids[:gpus], threads_per_worker=1)
    except ImportError:
        workers = {
            f"gpu{i}": {
                "cls": Nanny,
                "options": {"nthreads": 1, "env": {"CUDA_VISIBLE_DEVICES": ids[i]}},
            }
            for i in range(gpus)
        }
        scheduler = {"cls": Scheduler, "options": {"dashboard_address": ":0"}}
        cluster = SpecCluster(workers=workers, scheduler=scheduler)
    return Client(cluster)


def _close_client(client) -> None:
    """Close a dask client, and the local cluster it started, if any."""
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


def _dask_client(address: str | None):
    try:
        from dask.distributed import Client
    except ImportError as error:  # pragma: no cover - optional dependency
        raise ValueError("backend 'dask' needs: pip install 'oodcalib[distributed]'") from error
    if not address:
        return Client(processes=True)
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError) as error:
        raise ValueError(
            f"--scheduler {address}: no dask scheduler answers there "
            f"({type(error).__name__}); start one with `dask scheduler` or "
            "leave --scheduler out for a local cluster"
        ) from None
