"""Test domains as data: ``--domain NAME=SPEC`` names a source, its files and a kind.

A spec is ``key=value`` pairs separated by ``;`` (or a JSON file holding the dict)::

    --domain 'mnms=source=nifti; images=/data/mnms/*_sa.nii.gz;
              labels=/data/mnms/*_sa_gt.nii.gz; label_map={1: 3, 2: 2, 3: 1};
              kind=vendor; frame=ED; patient_pattern=^([^_]+)'

Keys (:data:`SPEC_KEYS`): ``source`` (a data source: ``nifti``, ``acdc``, ``mscmr_lge``,
``phantom`` or a plugin's), the source's own keys (``root``, ``images``, ``labels``,
``label_map``, ``frame``, ``orientation``, ``phase``, ``patient_pattern``,
``phantom_cases``, ``seed``), and the domain's: ``kind`` (one of :data:`KINDS`:
averages are taken per kind), ``header`` (its table header; default ``NAME (kind)``) and
``exclude_patients`` (``train``: drop the scans of patients the nets were trained or
calibrated on, matched by ``patient_pattern`` here and ``data.patient_pattern`` in the
source; or a list of patient ids). Specs are stored in ``eval.domains`` of the config.

A spec is checked when it is given (:func:`check_domain`), with the ranges of the
``data.*`` keys it sets; errors name the domain's key (``eval.domains.mnms.frame``), never
the training source's ``data.*`` key.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from oodcalib.config import DataConfig, absolute_path, parse_value, set_value
from oodcalib.config.run_config import validate_section
from oodcalib.errors import DataError, OodcalibError

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
#: The kinds of shift a domain may be, and what each means. Domains of one kind are
#: averaged together in the tables (``Vendor avg``): the artifact kind always, with the
#: built-in artifacts; another kind from two domains on (LGE is of kind ``sequence``).
KINDS = {
    "artifact": "a simulated acquisition artifact of the training source's test scans "
    "(averaged per scan with the built-in artifacts)",
    "sequence": "another MR sequence or contrast: LGE, T1 or T2 mapping (averaged with "
    "the built-in LGE domain)",
    "vendor": "the training sequence (cine) from another scanner vendor, site or protocol",
    "population": "the training sequence from another patient population (age, disease)",
    "other": "any other shift (averaged only with other domains of kind other)",
}
#: Kind of a domain whose spec names none.
DEFAULT_KIND = "other"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


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
    if kind not in KINDS:
        raise OodcalibError(
            f"eval.domains.{name}.kind: {kind!r} is not a kind of domain; the kinds are "
            + "; ".join(f"{k}: {meaning}" for k, meaning in KINDS.items())
        )
    exclude = spec.get("exclude_patients")
    if exclude is not None and exclude != "train" and not isinstance(exclude, list | tuple):
        raise OodcalibError(
            f"eval.domains.{name}.exclude_patients: {exclude!r} must be "
            "'train' or a list of patient ids"
        )
    seed = spec.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise OodcalibError(f"eval.domains.{name}.seed: {seed!r} must be a whole number >= 0")
    validate_section(
        domain_config(DataConfig(), name, spec),
        f"eval.domains.{name}",
        {field: key for key, field in DATA_KEYS.items()},
    )


def in_domain_words(message: str, name: str) -> str:
    """A source's message about ``data.*`` keys, reworded for the keys of a domain's spec.

    Example:
        >>> in_domain_words("data.frame=ED needs a sidecar", "mnms")
        'eval.domains.mnms.frame=ED needs a sidecar'
        >>> in_domain_words("nifti needs --set data.nifti_images=GLOB", "mnms")
        'nifti needs images=GLOB in the spec of --domain mnms'
    """
    keys = {field: key for key, field in DATA_KEYS.items()}

    def option(match: re.Match) -> str:
        key = keys.get(match[1], match[1])
        return f"{key}={match[2]} in the spec of --domain {name}"

    message = re.sub(r"--set data\.(\w+)=(\S+)", option, message)
    for field, key in keys.items():
        message = message.replace(f"data.{field}", f"eval.domains.{name}.{key}")
    return message


def load_domain(data: DataConfig, name: str, spec: dict[str, Any], seed: int) -> list:
    """The raw cases of domain ``name``, loaded by its source; errors name the domain.

    Args:
        data: The run's ``data`` section (its preprocessing keys are kept).
        name: The domain's name.
        spec: Its spec.
        seed: The run's seed (the spec's ``seed`` wins).

    Returns:
        The cases, each with ``domain`` set to ``name``.

    Raises:
        DataError: A file of the domain is bad (the message names it).
        OodcalibError: Any other problem, worded with the domain's keys.
    """
    from oodcalib.datasets.sources import load_source

    local = domain_config(data, name, spec)
    try:
        cases = load_source(local, domain_seed(spec, seed))
    except DataError as error:
        raise DataError(error.path, in_domain_words(error.problem, name)) from None
    except (OodcalibError, ValueError) as error:
        raise OodcalibError(f"--domain {name}: {in_domain_words(str(error), name)}") from None
    return [replace(case, domain=name) for case in cases]


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
    "in_domain_words",
    "load_domain",
    "parse_domain",
    "refuse_changed_specs",
    "spec_stamp",
]
