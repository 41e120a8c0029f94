"""Rules between the keys of a configuration, checked before any work.

:func:`~oodcalib.config.run_config.validate_config` checks each key against its range,
then :func:`check_rules`: the split fractions sum to 1, options belong to the source in
use, the U-Net's depth fits its input side, and every file the run will write has a
name short enough for the file system.
"""

from __future__ import annotations

from typing import Protocol

from oodcalib.config.sections import DataConfig, EvalConfig, ModelConfig
from oodcalib.errors import OodcalibError


class Config(Protocol):
    """What the rules read of a :class:`~oodcalib.config.Config` (no import circle)."""

    data: DataConfig
    model: ModelConfig
    eval: EvalConfig


#: Sources whose files are given by keys of their own: options of another source are errors.
SOURCE_KEYS = {
    "root": ("phantom", "nifti"),
    "nifti_images": ("phantom", "acdc", "mscmr_lge"),
    "nifti_labels": ("phantom", "acdc", "mscmr_lge"),
    "label_map": ("phantom", "acdc"),
    "frame": ("phantom", "acdc"),
}


def unique_names(names: list[str]) -> list[str]:
    """``names`` without repeats; ``UC``, ``uc`` and `` uc`` are one name (the first kept).

    Example:
        >>> unique_names(["uc", "UC", "lts", "uc"])
        ['uc', 'lts']
    """
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name if ":" in name else name.strip().lower().replace("-", "_"), name)
    return list(seen.values())


#: Longest file name most file systems take (ext4, APFS, NTFS: 255 bytes).
NAME_MAX = 255
#: What an atomic write adds to a file name for its temporary file (``.NAME.XXXXXXXX.tmp``)
TEMPORARY_EXTRA = len("..12345678.tmp")


def longest_file_name(config: Config) -> tuple[str, str]:
    """``(key, file name)`` of the longest file name a run of ``config`` writes.

    The per-case files are the long ones: ``<method>_r<repeat>@<domain>.bins.csv.gz``.
    """
    repeat = config.eval.repeats - 1
    names = [
        (
            f"eval.domains.{domain}" if domain else "eval.methods",
            f"{method}_r{repeat}{at}.bins.csv.gz",
        )
        for method in config.eval.methods
        for domain, at in [("", ""), *((d, f"@{d}") for d in config.eval.domains)]
    ]
    return max(names, key=lambda item: len(item[1].encode()))


def check_file_names(config: Config) -> None:
    """Refuse names (methods, extra domains) whose files would be too long to write.

    Example:
        >>> from oodcalib.config import build_config
        >>> check_file_names(build_config("smoke", [f"eval.domains.{'x' * 240}.source=nifti"],
        ...                               validate=False))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        oodcalib.errors.OodcalibError: eval.domains.xxx...: the name is too long: ...
    """
    key, name = longest_file_name(config)
    size = len(name.encode()) + TEMPORARY_EXTRA
    if len(key) > 60:
        key = f"{key[:40]}... ({len(key) - len('eval.domains.')} characters)"
    if size > NAME_MAX:
        raise OodcalibError(
            f"{key}: the name is too long: the run would write the file {name[:40]}... "
            f"({size} bytes with its temporary suffix; file systems take {NAME_MAX}); "
            f"shorten it by {size - NAME_MAX} characters"
        )


def check_rules(config: Config) -> None:
    """Rules between keys, each failing with a line that names the key.

    Fractions that sum to 1, options of the source in use, the U-Net's depth against
    its input, and file names short enough to be written.

    Example:
        >>> from oodcalib.config import build_config
        >>> check_rules(build_config("smoke", ["data.label_map={1: 3}"], validate=False))
        Traceback (most recent call last):
        ...
        oodcalib.errors.OodcalibError: data.label_map is set but data.source is 'phantom', \
which does not use it; remove it or choose the source it belongs to (--data nifti)
    """
    d = config.data
    if abs(sum(d.split_fractions) - 1) > 1e-6:
        raise OodcalibError(
            f"data.split_fractions={tuple(d.split_fractions)}: the "
            "train/val/test fractions must sum to 1"
        )
    if bool(d.calibration) != bool(config.model.networks):
        raise OodcalibError(
            "data.calibration names the calibration patients of model.networks (--model); "
            "give both (--model KIND:SPEC --calibration FILE) or neither"
        )
    for key, sources in SOURCE_KEYS.items():
        if getattr(d, key) is not None and d.source in sources:
            owner = "acdc, mscmr_lge or a plugin's" if key == "root" else "nifti"
            raise OodcalibError(
                f"data.{key} is set but data.source is {d.source!r}, which "
                f"does not use it; remove it or choose the source it "
                f"belongs to (--data {owner})"
            )
    side, factor = d.input_size or d.size, 2 ** (config.model.depth - 1)
    if side % factor:
        what = "data.input_size" if d.input_size else "data.size"
        fits = [k for k in range(2, 9) if side % 2 ** (k - 1) == 0]
        raise OodcalibError(
            f"model.depth={config.model.depth}: a U-Net of this depth pools "
            f"{config.model.depth - 1} times, so its input side must be a multiple of "
            f"{factor}, and {what} is {side} px; use model.depth <= {max(fits, default=1)} "
            f"or a {what} that is a multiple of {factor}"
        )
    check_file_names(config)
