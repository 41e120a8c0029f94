"""Loop-safe globbing: glob.glob's matches on a tree without links, each file once with them."""

from __future__ import annotations

import glob
import os
import time
import warnings

import pytest

from oodcalib.datasets.file_glob import glob_files, unique_files

FILES = [
    "a/1.nii",
    "a/b/2.nii",
    "a/b/c/3.nii.gz",
    "a/b/p1_img.nii",
    "x/4.nii",
    ".h/5.nii",
    "a/.6.nii",
    "a/.h2/7.nii",
    "y/z/8.nii",
    "9.nii",
]
PATTERNS = [
    "**/*.nii",
    "*/*.nii",
    "a/**",
    "a/**/*.nii*",
    "**",
    "**/b/**/*.nii",
    "*",
    "a/b/p?_img.nii",
    "a/[ab]/*.nii",
    "**/.*.nii",
    "a/.h2/*.nii",
    "nope/*.nii",
    "a/1.nii",
    "**/c",
]


@pytest.fixture
def tree(tmp_path, monkeypatch):
    for name in FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("pattern", PATTERNS)
def test_without_links_it_matches_what_glob_matches(tree, pattern):
    want = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
    assert [str(p) for p in glob_files(pattern)] == want
    absolute = f"{tree}/{pattern}"
    want = sorted(p for p in glob.glob(absolute, recursive=True) if os.path.isfile(p))
    assert [str(p) for p in glob_files(absolute)] == want


def test_loops_are_neither_followed_nor_multiplied(tree):
    (tree / "a" / "self").symlink_to(".")
    (tree / "a" / "back").symlink_to("..")
    (tree / "a" / "b" / "up").symlink_to("../..")
    start = time.perf_counter()
    found = [str(p) for p in glob_files("a/**/*.nii")]
    assert time.perf_counter() - start < 5  # glob.glob does not end on this tree
    assert found == ["a/1.nii", "a/b/2.nii", "a/b/p1_img.nii"]
    assert [str(p) for p in glob_files(f"{tree}/**/*.nii")] == [
        f"{tree}/{n}" for n in ("9.nii", "a/1.nii", "a/b/2.nii", "a/b/p1_img.nii", "x/4.nii")
    ] + [f"{tree}/y/z/8.nii"]


def test_a_link_to_a_folder_elsewhere_is_followed_once(tree, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("vendor")
    (elsewhere / "v.nii").write_text("v")
    (tree / "a" / "vendor").symlink_to(elsewhere)
    (tree / "x" / "again").symlink_to(elsewhere)  # the same folder by a second road
    found = [str(p) for p in glob_files("**/v.nii")]
    assert found == ["a/vendor/v.nii"]


def test_two_names_of_one_file_give_the_real_one_with_a_warning(tree):
    (tree / "a" / "0_link.nii").symlink_to(tree / "a" / "1.nii")
    with pytest.warns(UserWarning, match=r"1 path\(s\) lead to a file already found"):
        found = glob_files("a/*.nii")
    assert [str(p) for p in found] == ["a/1.nii"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert unique_files([tree / "a/1.nii", tree / "x/4.nii"]) == [
            tree / "a/1.nii",
            tree / "x/4.nii",
        ]


def test_an_unreadable_folder_is_skipped_as_glob_skips_it(tree):
    locked = tree / "a" / "b"
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as root: permissions are not enforced")
        assert [str(p) for p in glob_files("a/**/*.nii")] == ["a/1.nii"]
    finally:
        locked.chmod(0o755)
