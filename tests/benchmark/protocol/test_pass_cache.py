"""The disk cache of augmented passes: same statistics as in memory, no pass run twice."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oodcalib.baselines.common.augmented_passes import AugmentedPasses, PassStatistics
from oodcalib.benchmark.protocol.forward_counter import ForwardCounter
from oodcalib.benchmark.protocol.pass_cache import PassCache
from oodcalib.segmentation.unet import UNet

SLICES, SIZE, SEED = 3, 16, 5
DOMAIN, CASE = "motion", "patient007"


@pytest.fixture
def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return UNet(1, 4, width=2, depth=2).eval().requires_grad_(False)


@pytest.fixture
def image() -> np.ndarray:
    return np.random.default_rng(0).random((SLICES, SIZE, SIZE)).astype(np.float32)


def assert_same_statistics(got: PassStatistics, want: PassStatistics) -> None:
    """Equal up to float32 round-off (the cache stores float32 sums)."""
    assert got.count == want.count
    np.testing.assert_allclose(got.total, want.total, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(got.total_sq, want.total_sq, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(got.mean, want.mean, atol=1e-6)
    # The spread is a square root of a difference of sums: its round-off is about
    # sqrt(float32 eps) where the passes agree.
    np.testing.assert_allclose(got.spread, want.spread, atol=5e-4)


def files(root, domain=DOMAIN, case=CASE) -> list[str]:
    return sorted(p.name for p in (root / domain / case).iterdir())


@pytest.mark.parametrize("num_aug", [1, 4])
def test_cached_statistics_equal_the_in_memory_ones(model, image, tmp_path, num_aug):
    cache = PassCache(tmp_path, model, SEED)
    want = AugmentedPasses(model, SEED).statistics(DOMAIN, CASE, image, num_aug)
    computed = cache.statistics(DOMAIN, CASE, image, num_aug)
    loaded = PassCache(tmp_path, model, SEED).statistics(DOMAIN, CASE, image, num_aug)
    assert want.count == num_aug
    assert_same_statistics(computed, want)
    assert_same_statistics(loaded, want)
    assert want.spread.max() > 0.01 or num_aug == 1  # the passes do differ


def test_another_case_domain_or_seed_has_other_passes(model, image, tmp_path):
    cached = PassCache(tmp_path, model, SEED).statistics(DOMAIN, CASE, image, 2)
    for seed, domain, case in [
        (SEED + 1, DOMAIN, CASE),
        (SEED, "clean", CASE),
        (SEED, DOMAIN, "patient008"),
    ]:
        other = AugmentedPasses(model, seed).statistics(domain, case, image, 2)
        assert not np.allclose(other.total, cached.total, rtol=1e-3)


def test_a_second_request_for_the_same_or_a_snapshot_count_runs_no_pass(model, image, tmp_path):
    counter = ForwardCounter(model)
    cache = PassCache(tmp_path, model, SEED, snapshots=[1, 2], counter=counter)
    first = cache.statistics(DOMAIN, CASE, image, 4)
    assert counter.counts == {"passes": 4 * SLICES}
    counter.counts.clear()
    for num_aug in (4, 2, 1):
        again = cache.statistics(DOMAIN, CASE, image, num_aug)
        assert again.count == num_aug
    assert_same_statistics(cache.statistics(DOMAIN, CASE, image, 4), first)
    assert sum(counter.counts.values()) == 0


def test_a_fresh_cache_on_the_same_folder_runs_no_pass(model, image, tmp_path):
    PassCache(tmp_path, model, SEED).statistics(DOMAIN, CASE, image, 3)
    counter = ForwardCounter(model)
    PassCache(tmp_path, model, SEED, counter=counter).statistics(DOMAIN, CASE, image, 3)
    assert sum(counter.counts.values()) == 0


@pytest.mark.parametrize(("cached", "wanted"), [(1, 2), (2, 5), (3, 4)])
def test_a_larger_request_runs_only_the_missing_passes(model, image, tmp_path, cached, wanted):
    counter = ForwardCounter(model)
    cache = PassCache(tmp_path, model, SEED, counter=counter)
    cache.statistics(DOMAIN, CASE, image, cached)
    counter.counts.clear()
    extended = cache.statistics(DOMAIN, CASE, image, wanted)
    assert counter.counts == {"passes": (wanted - cached) * SLICES}
    assert_same_statistics(
        extended, AugmentedPasses(model, SEED).statistics(DOMAIN, CASE, image, wanted)
    )


def test_a_smaller_count_without_a_snapshot_is_computed_from_the_start(model, image, tmp_path):
    """Sums over 4 passes cannot be cut to 2: a count below the cache that is no snapshot
    runs its passes (and is kept for next time)."""
    counter = ForwardCounter(model)
    cache = PassCache(tmp_path, model, SEED, counter=counter)
    cache.statistics(DOMAIN, CASE, image, 4)
    counter.counts.clear()
    cache.statistics(DOMAIN, CASE, image, 2)
    assert counter.counts == {"passes": 2 * SLICES}
    assert files(tmp_path) == ["n2.npz", "n4.npz"]


def test_snapshots_below_the_request_are_written_as_npz_files(model, image, tmp_path):
    counter = ForwardCounter(model)
    cache = PassCache(tmp_path, model, SEED, snapshots=[5, 1, 2, 2], counter=counter)
    cache.statistics(DOMAIN, CASE, image, 4)
    assert files(tmp_path) == ["n1.npz", "n2.npz", "n4.npz"]  # 5 lies beyond the request
    assert cache.cached_counts(DOMAIN, CASE) == [1, 2, 4]
    assert counter.counts == {"passes": 4 * SLICES}  # snapshots cost no extra pass
    memory = AugmentedPasses(model, SEED)
    for n in (1, 2, 4):
        with np.load(tmp_path / DOMAIN / CASE / f"n{n}.npz") as data:
            assert int(data["count"]) == n
            want = memory.statistics(DOMAIN, CASE, image, n)
            np.testing.assert_allclose(data["total"], want.total, rtol=1e-6, atol=1e-7)
            np.testing.assert_allclose(data["total_sq"], want.total_sq, rtol=1e-6, atol=1e-7)
    assert not list(tmp_path.rglob("*.tmp"))


def test_snapshots_between_the_cache_and_the_request_are_filled_in(model, image, tmp_path):
    PassCache(tmp_path, model, SEED).statistics(DOMAIN, CASE, image, 2)
    counter = ForwardCounter(model)
    cache = PassCache(tmp_path, model, SEED, snapshots=[1, 3, 4], counter=counter)
    cache.statistics(DOMAIN, CASE, image, 5)
    assert files(tmp_path) == ["n2.npz", "n3.npz", "n4.npz", "n5.npz"]
    assert counter.counts == {"passes": 3 * SLICES}


def test_a_session_resumed_from_a_snapshot_gets_the_numbers_of_an_uninterrupted_one(
    model, image, tmp_path
):
    """The cause of resumes differing by 1e-10 (issue 28): the first session carried on
    with float64 sums, a resumed one with the float32 snapshot. Both now carry on with
    the stored snapshot, so every number is equal, not merely close."""
    whole = PassCache(tmp_path / "whole", model, SEED, snapshots=[2])
    uninterrupted = whole.statistics(DOMAIN, CASE, image, 4)
    PassCache(tmp_path / "killed", model, SEED).statistics(DOMAIN, CASE, image, 2)
    (tmp_path / "killed" / DOMAIN / CASE / "n4.npz").unlink(missing_ok=True)
    resumed = PassCache(tmp_path / "killed", model, SEED).statistics(DOMAIN, CASE, image, 4)
    reread = PassCache(tmp_path / "whole", model, SEED).statistics(DOMAIN, CASE, image, 4)
    for other in (resumed, reread):  # computed, resumed and read back: the same bits
        np.testing.assert_array_equal(other.total, uninterrupted.total)
        np.testing.assert_array_equal(other.total_sq, uninterrupted.total_sq)
        np.testing.assert_array_equal(other.spread, uninterrupted.spread)
