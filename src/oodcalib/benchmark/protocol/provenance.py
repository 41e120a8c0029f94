"""What a run was made with: package versions, git revision, command line, device."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from oodcalib.atomic import write_json

PACKAGES = (
    "oodcalib",
    "torch",
    "torchio",
    "numpy",
    "scipy",
    "pandas",
    "nibabel",
    "scikit-image",
    "h5py",
    "joblib",
)


def git_revision(path: Path | None = None) -> str | None:
    """The git commit of the source tree (with ``-dirty`` if modified), or None."""
    cwd = path or Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return rev + ("-dirty" if dirty.strip() else "")


def environment() -> dict:
    """Versions of the packages that shape the results, plus platform and git revision."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": versions,
        "git_revision": git_revision(),
        "argv": sys.argv,
        "cpu_count": os.cpu_count(),
        "torch_threads": _torch_threads(),
        **cpu(),
    }


def cpu() -> dict[str, str | None]:
    """The processor's model name and the vector instructions torch's kernels use.

    Timings and the fp32 peak depend on both (README, Speed): on an AMD EPYC with AVX-512,
    torch's oneDNN kernels used it while MKL's matrix product ran at half their rate.
    """
    model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import torch

        capability = torch.backends.cpu.get_cpu_capability()
    except ImportError:  # pragma: no cover - torch is a dependency
        capability = None
    return {"cpu_model": model or platform.processor() or None, "cpu_capability": capability}


def _torch_threads() -> int | None:
    """Torch's intra-op threads in this process (the jobs use ``train.num_threads``)."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return None
    return torch.get_num_threads()


def write_environment(path: Path, device=None) -> None:
    """Write :func:`environment` as JSON, with the run's resolved ``device`` (a torch device).

    On CUDA it adds the GPU's name, memory, compute capability and the driver, CUDA and
    cuDNN versions (:func:`~oodcalib.segmentation.device.describe_device`).
    """
    from oodcalib.segmentation.device import describe_device

    extra = describe_device(device) if device is not None else {}
    write_json(path, {**environment(), **extra})
