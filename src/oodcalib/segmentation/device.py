"""Where the networks run: the device, chosen once per run and passed explicitly.

No default device is ever set: tensors are built on the CPU from numpy (the seeded
generators, the augmentation and the data stay there, so the seed fixes the data, the
batches, the augmentation and the initialisation on every device) and moved to the
device of the network that reads them (:func:`to_device`, from pinned memory on CUDA).
A network's device is that of its parameters (:func:`model_device`); every result leaves
as CPU numpy.

``auto`` is CUDA when torch sees a GPU, else the CPU; a device this machine lacks is a
one-line error naming it (:func:`resolve_device`).
"""

from __future__ import annotations

import os
import re
import subprocess

import torch

from oodcalib.errors import OodcalibError

#: The values of ``--device`` / the ``device`` key.
DEVICE_PATTERN = r"^(auto|cpu|mps|cuda(:\d+)?)$"


def device_kind(name: str) -> str:
    """The kind of a device name, without its index.

    Example:
        >>> device_kind("cuda:1"), device_kind("cpu")
        ('cuda', 'cpu')
    """
    return name.split(":", 1)[0]


def auto_kind() -> str:
    """``cuda`` when torch sees a GPU, else ``cpu`` (what ``auto`` means on this machine)."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_device(name: str) -> torch.device:
    """The torch device of ``name`` (``auto``, ``cpu``, ``cuda``, ``cuda:N``, ``mps``).

    Raises:
        OodcalibError: One line naming the device, when the name is not one of these or
            this machine has no such device.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
        >>> resolve_device("gpu")
        Traceback (most recent call last):
        ...
        oodcalib.errors.OodcalibError: --device gpu: not a device; use auto, cpu, cuda, \
cuda:N or mps
    """
    if not re.match(DEVICE_PATTERN, name):
        raise OodcalibError(f"--device {name}: not a device; use auto, cpu, cuda, cuda:N or mps")
    name = auto_kind() if name == "auto" else name
    kind = device_kind(name)
    if kind == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if not count:
            raise OodcalibError(
                f"--device {name}: torch sees no CUDA GPU on this machine (torch "
                f"{torch.__version__}, built for CUDA {torch.version.cuda}); use --device cpu"
            )
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= count:
            raise OodcalibError(
                f"--device {name}: this machine has {count} CUDA GPU(s), cuda:0 to cuda:{count - 1}"
            )
    if kind == "mps" and not torch.backends.mps.is_available():
        raise OodcalibError(f"--device {name}: torch sees no Apple MPS device; use --device cpu")
    return torch.device(name)


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of a network's parameters (the CPU for a network without any).

    Example:
        >>> model_device(torch.nn.Linear(2, 2))
        device(type='cpu')
    """
    for parameter in model.parameters():
        return parameter.device
    return torch.device("cpu")


def to_device(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``x`` (on the CPU) on ``device``: through pinned memory, asynchronously, on CUDA.

    On the CPU it is ``x`` itself.

    Example:
        >>> t = torch.ones(2)
        >>> to_device(t, torch.device("cpu")) is t
        True
    """
    if device.type == "cuda" and x.device.type == "cpu":
        return x.pin_memory().to(device, non_blocking=True)
    return x.to(device)


def describe_device(device: torch.device) -> dict:
    """What ``environment.json`` records of the run's device (a GPU's name, memory, versions)."""
    info: dict = {"device": str(device)}
    if device.type != "cuda":
        return info
    index = device.index if device.index is not None else torch.cuda.current_device()
    props = torch.cuda.get_device_properties(index)
    return {
        **info,
        "gpu_name": props.name,
        "gpu_memory_gib": round(props.total_memory / 2**30, 2),
        "gpu_compute_capability": f"{props.major}.{props.minor}",
        "gpu_count": torch.cuda.device_count(),
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "cuda_version": torch.version.cuda,
        "cudnn_version": torch.backends.cudnn.version(),
        "driver_version": _driver_version(index),
        "bf16_supported": torch.cuda.is_bf16_supported(),
    }


def _driver_version(index: int) -> str | None:
    """The NVIDIA driver's version from ``nvidia-smi`` (torch does not report it)."""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader", f"-i={index}"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out.splitlines()[0] if out else None
