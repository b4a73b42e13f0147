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


@pytest.mark.parametrize("reads_pixels", [True, False])
def test_adding_or_removing_one_file_changes_at_most_two_shards(reads_pixels: bool) -> None:
    entries = _dataset(1000)
    base = _plan(entries, reads_pixels=reads_pixels)
    assert len(base.shards) >= 4
    old = _ids(base)
    rng = random.Random(42)
    for _ in range(200):
        if rng.random() < 0.5:
            changed = [*entries, _entry(2 * rng.randrange(1000) + 1, rng.randint(1, 8 * MIB))]
        else:
            changed = entries[:]
            del changed[rng.randrange(len(changed))]
        new = _ids(_plan(changed, reads_pixels=reads_pixels, previous_target=base.target_cost))
        assert len(new - old) <= 2
        assert len(old - new) <= 2


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
    plan = _plan(_dataset(1000), reads_pixels=False, max_images_per_task=2, max_shards=100)
    assert len(plan.shards) <= 100
    assert max(len(s.entries) for s in plan.shards) > 2


def test_one_file_per_task() -> None:
    plan = _plan(_dataset(50), max_images_per_task=1)
    assert [len(s.entries) for s in plan.shards] == [1] * 50


@pytest.mark.slow
def test_shard_count_bounded_for_a_million_entries() -> None:
    entries = [FileEntry(f"d{i // 1000:04d}/f{i:07d}.tif", ".", 1000, 0, "file", "tif")
               for i in range(1_000_000)]  # fmt: skip
    plan = _plan(entries, reads_pixels=False, max_images_per_task=500, workers=64)
    assert 64 <= len(plan.shards) <= 512
    assert sum(len(s.entries) for s in plan.shards) == 1_000_000
    assert len(_plan(entries[:100_000], reads_pixels=False, max_shards=16).shards) <= 16


@pytest.mark.parametrize("reads_pixels", [True, False])
def test_shard_count_reasonable_for_a_thousand_entries(reads_pixels: bool) -> None:
    plan = _plan(_dataset(1000), reads_pixels=reads_pixels, workers=2)
    assert 4 <= len(plan.shards) <= 64


def test_target_is_a_power_of_two_kept_by_hysteresis() -> None:
    entries = [_entry(i) for i in range(1000)]
    # 1 cost unit per file; K = ceil(N / max_images_per_task) = 2 (fewer files than
    # MIN_SHARD_FILES gain nothing from more jobs); ideal 500 -> 512
    fresh = _plan(entries, reads_pixels=False)
    assert fresh.target_cost == 512
    assert _plan(entries, reads_pixels=False, previous_target=300).target_cost == 300
    assert _plan(entries, reads_pixels=False, previous_target=900).target_cost == 900
    assert _plan(entries, reads_pixels=False, previous_target=1200).target_cost == 512
    assert _plan(entries, reads_pixels=False, previous_target=200).target_cost == 512


def test_hysteresis_keeps_boundaries_when_the_ideal_target_moves() -> None:
    # 1 cost unit per file, K = ceil(N / 183) = 8: the ideal target crosses 2**7.5 = 181.02
    cap = {"reads_pixels": False, "max_images_per_task": 183}
    entries = [_entry(i) for i in range(1456)]  # ideal 182 -> 256
    grown = [*entries, *(_entry(i) for i in range(1456, 1464))]  # ideal 183 -> 256
    shrunk = entries[:-16]  # ideal 180 -> 128
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
