"""The device of a run: resolved once, recorded, and the same kind on every resume.

``config.device`` may say ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``. A run records
the *kind* it resolved to (``cpu``, ``cuda`` or ``mps``) in ``config.json``; the GPU index
is a placement, like ``n_jobs``, and is not recorded. Networks compute different bits on
different devices (other kernels, other summation orders, TF32 and bf16 on CUDA), so a run
resumes, and the commands that reuse its nets (evaluate, rescore, ablate, figures --case)
run, only on the kind it recorded: anything else is refused with one line, and ``auto``
means the recorded kind. Runs recorded before the key existed ran on the CPU
(:meth:`~oodcalib.config.Config.from_dict`).
"""

from __future__ import annotations

from pathlib import Path

import torch

from oodcalib.atomic import write_json
from oodcalib.config import Config
from oodcalib.errors import OodcalibError
from oodcalib.segmentation.acceleration import (
    Placement,
    configure_backends,
    peak_memory_gib,
    reset_peak_memory,
)
from oodcalib.segmentation.device import auto_kind, device_kind, resolve_device

#: Per-cell record of the device and its peak memory (CUDA runs only).
DEVICE_FILE = "device.json"


def choose_device(requested: str, recorded: str | None, where: Path | str) -> torch.device:
    """The device to run on: ``requested``, of the ``recorded`` kind when there is one.

    Args:
        requested: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
        recorded: The kind the run directory recorded (None: a new run).
        where: The run directory, for the message.

    Raises:
        OodcalibError: The device is missing here, or of another kind than recorded.

    Example:
        >>> choose_device("auto", "cpu", "RUN")
        device(type='cpu')
        >>> choose_device("mps", "cpu", "RUN")
        Traceback (most recent call last):
        ...
        oodcalib.errors.OodcalibError: RUN ran its networks on cpu and resumes only there \
(numbers differ bit-wise across devices): use --device cpu, or another --out for a run on mps
    """
    if requested == "auto":
        requested = recorded or auto_kind()
    if recorded is not None and device_kind(requested) != recorded:
        raise OodcalibError(
            f"{where} ran its networks on {recorded} and resumes only there (numbers differ "
            f"bit-wise across devices): use --device {recorded}, or another --out for a run "
            f"on {device_kind(requested)}"
        )
    return resolve_device(requested)


def resolve_run_device(config: Config, recorded: dict | None, run_dir: Path) -> torch.device:
    """Resolve ``config.device`` against the run's record; ``config.device`` becomes the kind.

    Args:
        config: The run's configuration (its ``device`` is replaced by the resolved kind).
        recorded: The run directory's ``config.json`` as written (None: a new run).
        run_dir: The run directory, for messages.

    Returns:
        The device of this session (with its index, if one was asked for).
    """
    kind = None if recorded is None else Config.from_dict(recorded).device
    device = choose_device(config.device, kind, run_dir)
    config.device = device.type
    configure_backends(device, config.deterministic)
    return device


def placement(config: Config, device: str | torch.device | None = None) -> Placement:
    """The placement of a cell's segmentation net: ``device`` (default: the run's kind)."""
    resolved = resolve_device(str(device or config.device))
    configure_backends(resolved, config.deterministic)  # in every worker process too
    return Placement(resolved, amp=config.amp, prefer_channels_last=config.model.channels_last)


def start_memory(device: torch.device) -> None:
    """Count a cell's peak GPU memory from here."""
    reset_peak_memory(device)


def record_memory(directory: Path, device: torch.device) -> None:
    """Write the device and the peak GPU memory of a cell's session (CUDA only)."""
    peak = peak_memory_gib(device)
    if peak is None:
        return
    name = torch.cuda.get_device_name(device)
    write_json(
        Path(directory) / DEVICE_FILE,
        {"device": str(device), "gpu_name": name, "peak_memory_gib": peak},
    )
