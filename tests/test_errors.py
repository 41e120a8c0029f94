import pytest

from oodcalib.errors import DataError, UnknownNameError, lookup


def test_lookup_normalises_and_lists():
    reg = {"bias_field": 1, "motion": 2}
    assert lookup(reg, "Bias-Field", "corruption") == 1
    with pytest.raises(UnknownNameError) as info:
        lookup(reg, "blur", "corruption")
    assert "bias_field, motion" in str(info.value) and "blur" in str(info.value)


def test_data_error_names_the_file():
    err = DataError("/x/y.nii.gz", "image and label shapes differ")
    assert str(err).startswith("/x/y.nii.gz: ") and err.path == "/x/y.nii.gz"


def test_lookup_imports_module_paths():
    assert lookup({}, "oodcalib.baselines:TemperatureScaling", "method").name == "ts"
    from oodcalib.errors import OodcalibError

    with pytest.raises(OodcalibError, match="cannot import method"):
        lookup({}, "oodcalib.baselines:Nope", "method")
