"""``--domain NAME=SPEC``: parsing, checking and the source config it builds."""

from __future__ import annotations

import json

import pytest

from oodcalib.config import build_config
from oodcalib.datasets.domain_spec import (
    KINDS,
    SPEC_KEYS,
    check_domain,
    domain_config,
    domain_kind,
    domain_seed,
    in_domain_words,
    parse_domain,
)
from oodcalib.errors import OodcalibError


def test_inline_spec_parses_types_and_makes_paths_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name, spec = parse_domain(
        "mnms=source=nifti; images=imgs/*_sa.nii.gz; labels=l/*.nii.gz;"
        " label_map={1: 3, 2: 2, 3: 1}; kind=vendor; frame=ED;"
        " patient_pattern=^([^_]+); exclude_patients=train"
    )
    assert name == "mnms"
    assert spec["images"] == f"{tmp_path}/imgs/*_sa.nii.gz"
    assert spec["label_map"] == {1: 3, 2: 2, 3: 1} and spec["frame"] == "ED"
    assert spec["patient_pattern"] == "^([^_]+)" and spec["exclude_patients"] == "train"
    assert domain_kind(spec) == "vendor"


def test_json_file_spec_equals_the_inline_one(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({"source": "nifti", "images": "/d/*.nii.gz", "kind": "vendor"}))
    assert parse_domain(f"v={path}") == parse_domain(
        "v=source=nifti;images=/d/*.nii.gz;kind=vendor"
    )


def test_a_spec_without_kind_gets_the_default_kind():
    assert domain_kind(parse_domain("x=source=phantom")[1]) == "other"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("nospec", "NAME=SPEC"),
        ("x=source=nifti; images", "is not key=value"),
        ("x=source=nifti; colour=red", "unknown key(s) colour; valid: " + ", ".join(SPEC_KEYS)),
        ("x=images=/a/*.nii.gz", "eval.domains.x.source: missing"),
        ("x=source=nifti; kind=Vendor Shift", "eval.domains.x.kind"),
        ("x=source=nifti; exclude_patients=7", "eval.domains.x.exclude_patients"),
        ("bad/name=source=nifti", "a name is letters"),
        ("x=/no/such/spec.json", "not a readable JSON spec"),
        ("x=source=nifti; kind=scanner", "the kinds are artifact: a simulated"),
        ("x=source=nifti; frame=-1", "eval.domains.x.frame=-1"),
        ("x=source=nifti; images=/a/*.nii; orientation=up", "eval.domains.x.orientation"),
        ("x=source=nifti; phase=XX", "eval.domains.x.phase"),
        ("x=source=phantom; phantom_cases=0", "eval.domains.x.phantom_cases=0: must be >= 1"),
        ("x=source=phantom; seed=x", "eval.domains.x.seed"),
    ],
)
def test_bad_specs_name_the_key_and_what_is_allowed(text, needle):
    with pytest.raises(OodcalibError) as error:
        parse_domain(text)
    assert needle in str(error.value)


def test_every_kind_is_accepted_and_listed_with_its_meaning():
    for kind in KINDS:
        assert domain_kind(parse_domain(f"x=source=phantom; kind={kind}")[1]) == kind
    with pytest.raises(OodcalibError) as error:
        parse_domain("x=source=phantom; kind=cine")
    assert all(f"{kind}: {meaning}" in str(error.value) for kind, meaning in KINDS.items())


def test_a_source_message_is_reworded_for_the_domain():
    assert in_domain_words("needs --set data.nifti_images=GLOB", "v") == (
        "needs images=GLOB in the spec of --domain v"
    )
    assert in_domain_words("bad data.label_map and data.frame", "v") == (
        "bad eval.domains.v.label_map and eval.domains.v.frame"
    )


def test_built_in_names_are_reserved():
    with pytest.raises(OodcalibError, match="taken by a built-in domain"):
        check_domain("motion", {"source": "nifti"}, ("clean", "val", "lge", "motion"))


def test_domain_config_sets_the_source_keys_and_resets_the_others():
    config = build_config(
        "smoke",
        [
            "data.source=acdc",
            "data.root=/acdc",
            "data.label_map={1: 3, 3: 1}",
            "data.patient_pattern=p",
            "data.size=80",
        ],
        validate=False,
    )
    spec = {"source": "nifti", "images": "/v/*.nii.gz", "frame": "ES", "kind": "vendor", "seed": 5}
    d = domain_config(config.data, "v", spec)
    assert (d.source, d.nifti_images, d.frame) == ("nifti", "/v/*.nii.gz", "ES")
    assert d.root is None and d.label_map is None and d.patient_pattern is None
    assert d.size == 80 and domain_seed(spec, config.seed) == 5  # preprocessing kept, own seed
    assert config.data.source == "acdc"  # the run's config is untouched
