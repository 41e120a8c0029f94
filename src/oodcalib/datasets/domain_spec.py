"""Test domains as data: ``--domain NAME=SPEC`` names a source, its files and a kind.

A spec is ``key=value`` pairs separated by ``;`` (or a JSON file holding the dict)::

    --domain 'mnms=source=nifti; images=/data/mnms/*_sa.nii.gz;
              labels=/data/mnms/*_sa_gt.nii.gz; label_map={1: 3, 2: 2, 3: 1};
              kind=vendor; frame=ED; patient_pattern=^([^_]+)'

Keys (:data:`SPEC_KEYS`): ``source`` (a data source: ``nifti``, ``acdc``, ``mscmr_lge``,
``phantom`` or a plugin's), the source's own keys (``root``, ``images``, ``labels``,
``label_map``, ``frame``, ``orientation``, ``phase``, ``patient_pattern``,
``phantom_cases``, ``seed``), and the domain's: ``kind`` (``artifact``, ``sequence``,
``vendor``, ...: averages are taken per kind), ``header`` (its table header) and
``exclude_patients`` (``train``: drop the scans of patients the nets were trained or
calibrated on, matched by ``patient_pattern`` here and ``data.patient_pattern`` in the
source; or a list of patient ids). Specs are stored in ``eval.domains`` of the config.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from oodcalib.config import DataConfig, absolute_path, parse_value, set_value
from oodcalib.errors import OodcalibError

#: Spec key -> the ``data.*`` key it sets when the domain's source is loaded.
DATA_KEYS = {
    "source": "source",
    "root": "root",
    "images": "nifti_images",
    "labels": "nifti_labels",
    "label_map": "label_map",
    "frame": "frame",
    "orientation": "orientation",
    "phase": "phase",
    "patient_pattern": "patient_pattern",
    "phantom_cases": "phantom_cases",
}
#: Keys of the domain itself (not of its source).
OWN_KEYS = ("kind", "header", "exclude_patients", "seed")
SPEC_KEYS = (*DATA_KEYS, *OWN_KEYS)
#: Spec keys holding paths or globs (stored absolute).
PATH_SPEC_KEYS = ("root", "images", "labels")
#: Kind of a domain whose spec names none.
DEFAULT_KIND = "other"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_KIND = re.compile(r"^[a-z][a-z0-9_]*$")


def parse_domain(text: str) -> tuple[str, dict[str, Any]]:
    """``NAME=SPEC`` -> ``(name, spec)``; SPEC is ``k=v; k=v`` or a JSON file's path.

    Paths are made absolute. The spec is checked with :func:`check_domain` (without
    the run's reserved names, which :func:`check_domains` adds).

    Example:
        >>> name, spec = parse_domain("mnms=source=nifti; images=/d/*.nii.gz; kind=vendor;"
        ...                           " label_map={1: 3, 3: 1}")
        >>> name, spec["kind"], spec["label_map"]
        ('mnms', 'vendor', {1: 3, 3: 1})
    """
    if "=" not in text:
        raise OodcalibError(
            f"--domain {text!r} must look like NAME=SPEC, SPEC being "
            "key=value pairs separated by ';' or a JSON file"
        )
    name, body = (part.strip() for part in text.split("=", 1))
    if body.endswith(".json") and "=" not in body:
        path = Path(body).expanduser()
        try:
            spec = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise OodcalibError(
                f"--domain {name}: {path}: not a readable JSON spec ({error})"
            ) from None
        if not isinstance(spec, dict):
            raise OodcalibError(f"--domain {name}: {path}: must hold a JSON object")
    else:
        spec = {}
        for item in (i.strip() for i in body.split(";")):
            if not item:
                continue
            if "=" not in item:
                raise OodcalibError(
                    f"--domain {name}: {item!r} is not key=value (pairs are separated by ';')"
                )
            key, value = (p.strip() for p in item.split("=", 1))
            spec[key] = (
                value
                if key in (*PATH_SPEC_KEYS, "patient_pattern", "header")
                else parse_value(value)
            )
    spec = absolute_spec(spec)
    check_domain(name, spec)
    return name, spec


def absolute_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with its paths and globs absolute (later commands work from anywhere)."""
    return {k: absolute_path(v) if k in PATH_SPEC_KEYS and v else v for k, v in spec.items()}


def check_domain(name: str, spec: dict[str, Any], reserved: tuple[str, ...] = ()) -> None:
    """Refuse a bad domain name or spec, naming the key and what is allowed.

    Example:
        >>> check_domain("lge", {"source": "nifti"}, reserved=("clean", "lge"))
        Traceback (most recent call last):
        ...
        oodcalib.errors.OodcalibError: --domain lge: the name is taken by a built-in domain \
(clean, lge); choose another
    """
    if not _NAME.match(name) or name.endswith(" avg"):
        raise OodcalibError(
            f"--domain {name!r}: a name is letters, digits, '_', '-' and "
            "'.', starting with a letter or digit"
        )
    if name in reserved:
        raise OodcalibError(
            f"--domain {name}: the name is taken by a built-in domain "
            f"({', '.join(reserved)}); choose another"
        )
    if not isinstance(spec, dict):
        raise OodcalibError(f"eval.domains.{name}: must be a dict of spec keys")
    unknown = sorted(set(spec) - set(SPEC_KEYS))
    if unknown:
        raise OodcalibError(
            f"eval.domains.{name}: unknown key(s) {', '.join(unknown)}; "
            f"valid: {', '.join(SPEC_KEYS)}"
        )
    if not spec.get("source"):
        raise OodcalibError(
            f"eval.domains.{name}.source: missing; name a data source "
            "(nifti, acdc, mscmr_lge, phantom)"
        )
    kind = spec.get("kind", DEFAULT_KIND)
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise OodcalibError(
            f"eval.domains.{name}.kind: {kind!r} must be a lowercase word "
            "(artifact, sequence, vendor, ...)"
        )
    exclude = spec.get("exclude_patients")
    if exclude is not None and exclude != "train" and not isinstance(exclude, list | tuple):
        raise OodcalibError(
            f"eval.domains.{name}.exclude_patients: {exclude!r} must be "
            "'train' or a list of patient ids"
        )


def spec_stamp(spec: dict[str, Any]) -> str:
    """A spec as canonical JSON: equal for equal specs, before and after a JSON round trip.

    Example:
        >>> spec_stamp({"label_map": {1: 3}, "kind": "v"}) == spec_stamp(
        ...     {"kind": "v", "label_map": {"1": 3}})
        True
    """
    return json.dumps(spec, sort_keys=True, default=str)


def refuse_changed_specs(before: dict[str, dict], after: dict[str, dict], where: str) -> None:
    """A run may gain or keep extra test domains, but a scored domain's spec may not change.

    Raises:
        OodcalibError: A name in both with different specs (the message names ``where``).
    """
    for name in sorted(set(before) & set(after)):
        if spec_stamp(before[name]) != spec_stamp(after[name]):
            raise OodcalibError(
                f"{where}: test domain {name!r} was scored with another spec "
                f"({before[name]}); give the new one another name"
            )


def domain_kind(spec: dict[str, Any]) -> str:
    """The kind of a domain spec (:data:`DEFAULT_KIND` when it names none)."""
    return spec.get("kind", DEFAULT_KIND)


def domain_config(data: DataConfig, name: str, spec: dict[str, Any]) -> DataConfig:
    """The run's ``data`` section with the keys of the domain's source replaced.

    Keys the spec does not give are reset to their defaults (never inherited from the
    training source), except the preprocessing (``size``, ``spacing``, ``input_size``).
    The run's ``data`` is left untouched.
    """
    out = copy.deepcopy(data)
    fresh = DataConfig()
    for key in DATA_KEYS.values():
        setattr(out, key, copy.deepcopy(getattr(fresh, key)))
    for key, value in spec.items():
        if key in DATA_KEYS:
            try:
                set_value(out, DATA_KEYS[key], value)
            except OodcalibError as error:
                raise OodcalibError(f"eval.domains.{name}.{key}: {error}") from None
    return out


def domain_seed(spec: dict[str, Any], seed: int) -> int:
    """The seed a domain's source draws with: the spec's ``seed``, else the run's."""
    return int(spec.get("seed", seed))


__all__ = [
    "DATA_KEYS",
    "SPEC_KEYS",
    "absolute_spec",
    "check_domain",
    "domain_config",
    "domain_kind",
    "domain_seed",
    "parse_domain",
    "refuse_changed_specs",
    "spec_stamp",
]
