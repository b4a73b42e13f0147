"""Content-defined sharding: stable ids, bounded counts, caps and hysteresis."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence

import pytest

from pixel_patrol_base.errors import SettingsError
from pixel_patrol_base.pipeline.plan.discovery import FileEntry
from pixel_patrol_base.pipeline.plan.sharding import (
    ShardPlan,
    entry_cost,
    plan_shards,
    shard_id,
)

MIB = 1024 * 1024


def _entry(i: int, size: int = 1000) -> FileEntry:
    return FileEntry(f"plate{i // 100:03d}/img {i:07d}.tif", ".", size, 10**18 + i, "file", "tif")


def _dataset(n: int, seed: int = 0) -> list[FileEntry]:
    rng = random.Random(seed)
    return [_entry(i, rng.randint(1, 8 * MIB)) for i in range(0, 2 * n, 2)]


def _plan(entries: Sequence[FileEntry], **overrides: object) -> ShardPlan:
    settings: dict[str, object] = {
        "fingerprint": "fp",
        "reads_pixels": True,
        "max_images_per_task": 500,
        "workers": 2,
    }
    settings.update(overrides)
    return plan_shards(entries, **settings)  # type: ignore[arg-type]


def _ids(plan: ShardPlan) -> set[str]:
    return {s.shard_id for s in plan.shards}


def test_every_entry_in_exactly_one_shard_in_path_order() -> None:
    entries = _dataset(1000)
    shuffled = entries[:]
    random.Random(1).shuffle(shuffled)
    plan = _plan(shuffled)
    flat = [e for s in plan.shards for e in s.entries]
    assert flat == sorted(entries, key=lambda e: e.path)
    for shard in plan.shards:
        assert shard.planned_bytes == sum(e.size_bytes for e in shard.entries)
        assert shard.cost == sum(e.size_bytes + MIB for e in shard.entries)
        assert len(shard.shard_id) == 16
        int(shard.shard_id, 16)


def test_plan_is_deterministic() -> None:
    entries = _dataset(1000)
    assert _plan(entries) == _plan(list(reversed(entries)))


def _one_file_changes(
    entries: list[FileEntry], reads_pixels: bool, tries: int, **settings: object
) -> None:
    """Add or remove one file ``tries`` times: at most two shard ids come or go."""
    base = _plan(entries, reads_pixels=reads_pixels, **settings)
    assert len(base.shards) >= 4
    old = _ids(base)
    rng = random.Random(42)
    for _ in range(tries):
        if rng.random() < 0.5:
            extra = _entry(2 * rng.randrange(len(entries)) + 1, rng.randint(1, 8 * MIB))
            changed = [*entries, extra]
        else:
            changed = entries[:]
            del changed[rng.randrange(len(changed))]
        new = _ids(
            _plan(changed, reads_pixels=reads_pixels, previous_target=base.target_cost, **settings)
        )
        assert len(new - old) <= 2
        assert len(old - new) <= 2


def test_adding_or_removing_one_file_changes_at_most_two_shards() -> None:
    _one_file_changes(_dataset(1000), reads_pixels=True, tries=200)


@pytest.mark.slow
def test_one_file_changes_at_most_two_shards_of_200k_files_without_a_loader() -> None:
    _one_file_changes(_dataset(200_000), reads_pixels=False, tries=12, max_images_per_task=None)


@pytest.mark.parametrize(
    ("n", "most"),
    [(1000, 1), (20_000, 1), (50_000, 2), (200_000, 8), (1_000_000, 16)],
)
def test_file_information_runs_are_a_handful_of_jobs(n: int, most: int) -> None:
    # Without a loader a row costs ~30 us and a job ~1 CPU s: jobs of 50,000 files or
    # more, unless max_images_per_task is set (by default it bounds only image shards).
    entries = [_entry(i) for i in range(n)]
    plan = _plan(entries, reads_pixels=False, max_images_per_task=None)
    assert 1 <= len(plan.shards) <= most
    assert sum(len(s.entries) for s in plan.shards) == n


def test_a_set_max_images_per_task_bounds_file_information_shards_too() -> None:
    plan = _plan([_entry(i) for i in range(20_000)], reads_pixels=False, max_images_per_task=2000)
    assert len(plan.shards) >= 10
    assert max(len(s.entries) for s in plan.shards) <= 2000


@pytest.mark.parametrize(
    ("n", "size", "least", "most"),
    [
        (20, 2 * MIB, 1, 2),  # 60 MB: one job (or two, where a path hashes to a cut)
        (1000, 2 * MIB, 2, 4),  # 3 GB: both workers, no more
        (10_000, 32 * 1024, 2, 8),  # 10,000 small images: a few jobs per worker
    ],
)
def test_image_runs_are_a_few_jobs_per_worker(n: int, size: int, least: int, most: int) -> None:
    entries = [_entry(i, size) for i in range(n)]
    plan = _plan(entries, max_images_per_task=None)  # the default: 40,000
    assert least <= len(plan.shards) <= most


def test_changing_one_file_changes_one_shard() -> None:
    entries = _dataset(1000)
    base = _plan(entries)
    touched = entries[:]
    touched[500] = dataclasses.replace(touched[500], mtime_ns=touched[500].mtime_ns + 1)
    new = _plan(touched, previous_target=base.target_cost)
    assert len(_ids(new) - _ids(base)) == 1


def test_fingerprint_changes_every_id() -> None:
    entries = _dataset(1000)
    a, b = _plan(entries, fingerprint="one"), _plan(entries, fingerprint="two")
    assert [s.entries for s in a.shards] == [s.entries for s in b.shards]
    assert not _ids(a) & _ids(b)


def test_caps_are_respected() -> None:
    entries = _dataset(1000)
    plan = _plan(entries, max_images_per_task=7, max_shards=10_000)
    assert all(len(s.entries) <= 7 for s in plan.shards)
    for shard in plan.shards:
        before_last = shard.cost - entry_cost(shard.entries[-1], reads_pixels=True)
        assert before_last < 4 * plan.target_cost


def test_max_shards_wins_over_max_images_per_task() -> None:
    plan = _plan(_dataset(1000), max_images_per_task=2, max_shards=100)
    assert len(plan.shards) <= 100
    assert max(len(s.entries) for s in plan.shards) > 2


def test_one_file_per_task() -> None:
    plan = _plan(_dataset(50), max_images_per_task=1)
    assert [len(s.entries) for s in plan.shards] == [1] * 50


@pytest.mark.slow
def test_shard_count_bounded_for_a_million_entries() -> None:
    entries = [FileEntry(f"d{i // 1000:04d}/f{i:07d}.tif", ".", 1000, 0, "file", "tif")
               for i in range(1_000_000)]  # fmt: skip
    plan = _plan(entries, max_images_per_task=500, workers=64)  # 2,000 wanted by the cap
    assert 256 <= len(plan.shards) <= 512
    assert sum(len(s.entries) for s in plan.shards) == 1_000_000
    assert len(_plan(entries[:100_000], max_shards=16).shards) <= 16


def test_shard_count_reasonable_for_a_thousand_entries() -> None:
    plan = _plan(_dataset(1000), workers=2)
    assert 4 <= len(plan.shards) <= 64


def test_target_is_a_power_of_two_kept_by_hysteresis() -> None:
    entries = [_entry(i, size=0) for i in range(1000)]
    # 1 MiB of cost per (empty) file; K = ceil(N / max_images_per_task) = 2 (1,000 MiB
    # gain nothing from more jobs); ideal 500 MiB -> 512 MiB
    fresh = _plan(entries)
    assert fresh.target_cost == 512 * MIB
    assert _plan(entries, previous_target=300 * MIB).target_cost == 300 * MIB
    assert _plan(entries, previous_target=900 * MIB).target_cost == 900 * MIB
    assert _plan(entries, previous_target=1200 * MIB).target_cost == 512 * MIB
    assert _plan(entries, previous_target=200 * MIB).target_cost == 512 * MIB


def test_hysteresis_keeps_boundaries_when_the_ideal_target_moves() -> None:
    # 1 MiB per file, K = ceil(N / 183) = 8: the ideal target crosses 2**7.5 = 181.02 MiB
    cap = {"max_images_per_task": 183}
    entries = [_entry(i, size=0) for i in range(1456)]  # ideal 182 -> 256 MiB
    grown = [*entries, *(_entry(i, size=0) for i in range(1456, 1464))]  # 183 -> 256 MiB
    shrunk = entries[:-16]  # ideal 180 -> 128 MiB
    base = _plan(entries, **cap)
    assert _plan(shrunk, **cap).target_cost != base.target_cost
    kept = _plan(shrunk, **cap, previous_target=base.target_cost)
    assert kept.target_cost == base.target_cost
    assert len(_ids(kept) - _ids(base)) <= 1
    assert _plan(grown, **cap).target_cost == base.target_cost


def test_no_entries_no_shards() -> None:
    assert _plan([]).shards == []


@pytest.mark.parametrize(
    "bad",
    [{"max_images_per_task": 0}, {"workers": 0}, {"max_shards": 0}],
)
def test_invalid_settings_raise(bad: dict[str, object]) -> None:
    with pytest.raises(SettingsError):
        _plan(_dataset(10), **bad)


def test_shard_id_hashes_fingerprint_and_entry_fields() -> None:
    entries = [_entry(i) for i in range(5)]
    reference = shard_id(entries, "fp")
    assert shard_id(list(reversed(entries)), "fp") == reference
    assert shard_id(entries, "fp2") != reference
    for change in [
        {"size_bytes": 1},
        {"mtime_ns": 1},
        {"imported_path": "plate000"},
        {"type": "directory"},
        {"path": "other.tif"},
    ]:
        altered = [dataclasses.replace(entries[0], **change), *entries[1:]]  # type: ignore[arg-type]
        assert shard_id(altered, "fp") != reference
    assert shard_id([dataclasses.replace(entries[0], extension="x")], "fp") == shard_id(
        entries[:1], "fp"
    )


def test_entry_cost() -> None:
    entry = _entry(0, size=123)
    assert entry_cost(entry, reads_pixels=False) == 1
    assert entry_cost(entry, reads_pixels=True) == 123 + MIB


@pytest.mark.parametrize("seed", range(8))
def test_every_worker_gets_a_shard_when_the_data_is_worth_it(seed: int) -> None:
    # 2.5 GiB in 1,000 files: two jobs' worth of pixels, whatever the paths hash to.
    rng = random.Random(seed)
    entries = [_entry(i, 2 * MIB + rng.randint(0, MIB // 2)) for i in range(seed, 1000 + seed)]
    plan = _plan(entries, max_images_per_task=2000, workers=2)
    assert len(plan.shards) >= 2
