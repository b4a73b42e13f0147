"""Sharding: cut the discovered entries into content-addressed shards (one job each).

What belongs here: choosing shard boundaries and shard ids. What does not: listing files
(:mod:`.discovery`) and writing shard files (:mod:`.planning`).

Algorithm
---------
1. Entries are taken in path order. Each has a cost (:func:`entry_cost`): 1 per file when
   no loader reads pixels, else its size plus 1 MiB of per-file overhead.
2. A shard count ``K`` is chosen from the data::

       K = clamp(max(ceil(N / max_images_per_task),
                     min(N, 4 * workers, total_cost / min_shard_cost)), 1, max_shards)

   where ``min_shard_cost`` (16 GiB of work, or 50,000 files without a loader) keeps a
   job's fixed cost (an interpreter and its imports, about 1.3 CPU s with bioio, plus
   about 1 CPU s of Snakemake's own scheduling per job) small against its work: spreading
   24 small files over 8 jobs for parallelism only costs time. So a run gets at most
   ``4 * workers`` shards for parallelism, and fewer when its work is worth fewer jobs.
   Without a loader and unless ``max_images_per_task`` is set, no file count bounds a
   shard (no image is read): such shards are sized by their number of files alone, so
   that 200,000 files are a handful of jobs, not hundreds. ``mb_per_task`` does not size
   shards: a job holds one image (or one block of a large image) at a time, so its memory
   follows ``mb_per_task`` whatever the shard's total size.

   and the target cost per shard is ``total_cost / K`` rounded to a power of two.
3. Boundaries are **content-defined**: the path of entry ``i`` is hashed (blake2b) to a
   uniform ``u`` in [0, 1), and the shard ends after it when
   ``u < max(cost_i / target_cost, 1 / files_target)``. ``files_target`` is a quarter of
   ``max_images_per_task``, so a shard of small files averages that many files (without
   a loader it is the target itself, as every file costs 1). Hard caps
   (``max_images_per_task`` files, or a cost of ``4 * target_cost``) also cut; with the
   averages a quarter of the caps, a cap is reached by about e^-4 = 2 % of the shards.
   When there are only a few shards the cost cap is also at most an equal share per
   worker (``total_cost / workers``), so that one long shard cannot hold up the run;
   and the target is halved until every worker gets a shard, when the work is worth
   that (1 GiB of pixels per worker, or 50,000 files).
4. A shard's id (:func:`shard_id`) hashes the processing fingerprint and its entries.

Why content-defined: whether an entry ends a shard depends on its own path and cost, not
on its position. Adding or removing one file therefore changes only the shard holding it
(or, if that file is itself a boundary, the two shards it splits or joins), and every other
shard keeps its id, so its chunk is reused. Cutting every n files would instead shift every
boundary after the change and reprocess everything after it. Only a hard cap depends on
where its shard started, so a change inside a capped shard also moves the start of the next
one; as caps are rare, more than two shards change for about one change in a thousand.

Why hysteresis: the target depends on the total cost, which changes with every file. A
changed target moves boundaries everywhere, so the target of the previous plan
(``previous_target``, persisted in ``plan.json``) is kept while it is within a factor of 2
of the ideal; the quantization to powers of two has the same purpose when there is none.

Why the shard count is bounded: each shard is one Snakemake job, each job costs about
0.5 CPU s to start, and Snakemake's scheduler cost grows faster than the number of jobs.
A few hundred well-filled jobs keep the overhead small against the work. So ``K`` is at
most ``max_shards``, ``max_images_per_task`` is raised when honouring it would need more
shards than that, and if chance still gives more than ``max_shards`` shards, the targets
are doubled until it does not (the only case in which a one-file change may move many
boundaries).
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from pixel_patrol_base.errors import SettingsError
from pixel_patrol_base.pipeline.plan.discovery import FileEntry
from pixel_patrol_base.settings.declarations import DEFAULT_MAX_IMAGES_PER_TASK

log = logging.getLogger(__name__)

MIB = 1024 * 1024
MIN_SHARD_COST_PIXELS = 16 * 1024 * MIB
"""Smallest shard worth a job beyond one per worker when pixels are read: about 16,000
small images (50 s of work at 3 ms each) or 16 GB of pixels, against a job's fixed cost
of about 2 CPU s (1 in the job, 1 in Snakemake). With 1 GiB, 10,000 images of 32 KB went
to 15 jobs on 2 workers, and their fixed cost was a fifth of the run's CPU time."""
MIN_PARALLEL_COST_PIXELS = 1024 * MIB
"""Smallest shard worth a worker of its own when pixels are read (several seconds of
work): 1,000 files of 2 MB still use both workers of a 2-core machine."""
MIN_SHARD_FILES = 50_000
"""Smallest shard worth a job of its own for file information only (a row costs about
10 us; a job's fixed cost is about 1 CPU s): 200,000 files are 4 jobs."""
PER_FILE_OVERHEAD = MIB
"""Cost units added per file when pixels are read (opening a file has a fixed cost)."""
CAP_FACTOR = 4
"""Hard caps are this many times the average shard (cost and file count)."""
_HASH_SCALE = float(2**64)


@dataclass(frozen=True)
class Shard:
    """One group of entries, processed by one job."""

    shard_id: str
    """16 hex characters (:func:`shard_id`)."""
    entries: tuple[FileEntry, ...]
    """Entries in path order."""
    cost: int
    """Planned cost units (:func:`entry_cost` summed)."""
    planned_bytes: int
    """Sum of the entries' sizes."""


@dataclass(frozen=True)
class ShardPlan:
    """All shards of a run, in path order."""

    shards: list[Shard]
    target_cost: int
    """The target cost per shard used; persist it and pass it back as ``previous_target``."""


def entry_cost(entry: FileEntry, *, reads_pixels: bool) -> int:
    """The planned cost of processing one entry.

    Args:
        entry: The entry.
        reads_pixels: Whether a loader reads the file's pixels.

    Returns:
        1 when no pixels are read; else the size in bytes plus 1 MiB of per-file overhead.
    """
    return entry.size_bytes + PER_FILE_OVERHEAD if reads_pixels else 1


def shard_id(entries: Sequence[FileEntry], fingerprint: str) -> str:
    """The content address of a shard.

    Args:
        entries: The shard's entries (their order does not matter).
        fingerprint: The processing fingerprint (loader, processors, settings, versions).

    Returns:
        The first 16 hex characters of a sha256 over the fingerprint and each entry's
        path, imported path, size, modification time and type (and, where set, its raw
        name and its error).
    """
    return _shard_id(sorted(entries, key=lambda e: (e.path, e.imported_path)), fingerprint)


def _shard_id(ordered: Sequence[FileEntry], fingerprint: str) -> str:
    """:func:`shard_id` of entries already in (path, imported_path) order."""
    encoded = fingerprint.encode("utf-8")
    digest = hashlib.sha256(b"%d:" % len(encoded) + encoded)
    records = "".join(
        f"{e.path}\0{e.imported_path}\0{e.size_bytes}\0{e.mtime_ns}\0{e.type}\0{_extra(e)}"
        for e in ordered
    )
    digest.update(records.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:16]


def _extra(entry: FileEntry) -> str:
    """What a shard id adds for an entry with a raw name or an error ("" for most)."""
    if entry.path_bytes_b64 is None and entry.error is None:
        return ""  # so the ids of plain entries are those of earlier versions
    return f"\1{entry.path_bytes_b64 or ''}\0{entry.error or ''}\0"


def _path_hash(path: str) -> float:
    """A deterministic, uniform number in [0, 1) from a path."""
    raw = hashlib.blake2b(path.encode("utf-8", "surrogateescape"), digest_size=8).digest()
    return int.from_bytes(raw, "big") / _HASH_SCALE


def _power_of_two(value: float) -> int:
    """The power of two nearest to ``value`` in log scale (at least 1)."""
    if value <= 1:
        return 1
    return int(2 ** round(math.log2(value)))


def _jobs_worth(total_cost: int, reads_pixels: bool, *, in_parallel: bool = False) -> int:
    """How many jobs work of ``total_cost`` is worth (at least 1); ``in_parallel``: how
    many workers it is worth keeping busy at once."""
    if not reads_pixels:
        min_cost = MIN_SHARD_FILES
    else:
        min_cost = MIN_PARALLEL_COST_PIXELS if in_parallel else MIN_SHARD_COST_PIXELS
    return max(1, total_cost // min_cost)


def _check(max_images_per_task: int, workers: int, max_shards: int) -> None:
    for name, value in (
        ("max_images_per_task", max_images_per_task),
        ("workers", workers),
        ("max_shards", max_shards),
    ):
        if value < 1:
            raise SettingsError(f"{name} must be an integer >= 1, got {value!r}")


def _target_cost(
    n: int,
    total_cost: int,
    *,
    reads_pixels: bool,
    max_images_per_task: int,
    workers: int,
    previous_target: int | None,
    max_shards: int,
) -> int:
    parallel = min(n, 4 * workers, _jobs_worth(total_cost, reads_pixels))
    k = max(math.ceil(n / max_images_per_task), parallel)
    k = min(max(k, 1), max_shards)
    ideal = total_cost / k
    if previous_target is not None and ideal / 2 <= previous_target <= ideal * 2:
        return previous_target
    return _power_of_two(ideal)


def _cut(
    costs: Sequence[int],
    hashes: Sequence[float],
    target: int,
    files_target: float,
    files_cap: int,
    cost_cap: int,
) -> list[int]:
    """End indices (exclusive) of the shards."""
    ends: list[int] = []
    floor = 1.0 / files_target
    acc_cost = 0
    acc_n = 0
    for i, (cost, u) in enumerate(zip(costs, hashes, strict=True)):
        acc_cost += cost
        acc_n += 1
        if u < floor or u * target < cost or acc_n >= files_cap or acc_cost >= cost_cap:
            ends.append(i + 1)
            acc_cost = 0
            acc_n = 0
    if acc_n:
        ends.append(len(costs))
    return ends


@dataclass(frozen=True)
class _Limits:
    """What bounds the cut of one plan (see :func:`_fit`)."""

    max_images_per_task: int
    max_shards: int
    wanted: int
    """Shards wanted at least: one per worker, when the work is worth that many jobs."""
    total_cost: int


def _files_target(n: int, max_images_per_task: int, max_shards: int) -> float:
    """The average files per shard to aim for: a quarter of ``max_images_per_task``,
    raised to a power of two when that would need more than ``max_shards`` shards."""
    files_target = max(1.0, max_images_per_task / CAP_FACTOR)
    if n / files_target > max_shards:
        files_target = float(2 ** math.ceil(math.log2(n / max_shards)))
    return files_target


def _fit(
    costs: Sequence[int],
    hashes: Sequence[float],
    target: int,
    files_target: float,
    limits: _Limits,
) -> tuple[list[int], int, int]:
    """Cut with ``target`` and ``files_target``, halving the target while there are fewer
    shards than ``limits.wanted`` and doubling both while there are more than
    ``limits.max_shards``.

    Returns:
        The end indices of the shards, the target cost and the file cap used.
    """
    while True:
        files_cap = max(limits.max_images_per_task, math.ceil(CAP_FACTOR * files_target))
        # No shard above an equal share per worker: with few shards, one that drew a
        # long run of non-boundaries would otherwise keep a single worker busy.
        cost_cap = min(CAP_FACTOR * target, -(-limits.total_cost // limits.wanted))
        ends = _cut(costs, hashes, target, files_target, files_cap, cost_cap)
        if len(ends) < limits.wanted and target > 1:
            log.debug("%d shards < %d workers; halving the target", len(ends), limits.wanted)
            target //= 2
            continue
        if len(ends) <= limits.max_shards:
            return ends, target, files_cap
        log.debug("%d shards > max_shards=%d; doubling the targets", len(ends), limits.max_shards)
        target *= 2
        files_target *= 2


def _shards(
    ordered: Sequence[FileEntry], costs: Sequence[int], ends: Sequence[int], fingerprint: str
) -> list[Shard]:
    """The shards that end at ``ends`` (exclusive indices into ``ordered``)."""
    shards = []
    start = 0
    for end in ends:
        chunk = tuple(ordered[start:end])
        shards.append(
            Shard(
                shard_id=_shard_id(chunk, fingerprint),
                entries=chunk,
                cost=sum(costs[start:end]),
                planned_bytes=sum(e.size_bytes for e in chunk),
            )
        )
        start = end
    return shards


def plan_shards(
    entries: Sequence[FileEntry],
    *,
    fingerprint: str,
    reads_pixels: bool,
    max_images_per_task: int | None,
    workers: int,
    previous_target: int | None = None,
    max_shards: int = 512,
) -> ShardPlan:
    """Cut entries into content-addressed shards (see the module docstring).

    Args:
        entries: The discovered entries, any order (each path once).
        fingerprint: The processing fingerprint, part of every shard id.
        reads_pixels: Whether a loader reads pixels (sets :func:`entry_cost`).
        max_images_per_task: Most files in one shard (raised only when keeping it would
            need more than ``max_shards`` shards); ``None``: :data:`DEFAULT_MAX_IMAGES_PER_TASK`
            when pixels are read, and no file bound when they are not (each file costs 1,
            so the cost target alone sizes the shards).
        workers: Parallel workers; there are at least ``4 * workers`` shards when there
            are enough entries.
        previous_target: The ``target_cost`` of the previous plan, kept while it is within
            a factor of 2 of the ideal so that boundaries stay put.
        max_shards: Most shards in the plan.

    Returns:
        The shards in path order and the target cost used.

    Raises:
        SettingsError: A sizing parameter is out of range.
    """
    _check(1 if max_images_per_task is None else max_images_per_task, workers, max_shards)
    if not entries:
        return ShardPlan([], previous_target if previous_target else 1)
    ordered = sorted(entries, key=lambda e: (e.path, e.imported_path))
    costs = [entry_cost(e, reads_pixels=reads_pixels) for e in ordered]
    hashes = [_path_hash(e.path) for e in ordered]  # ~1 s per million entries
    n = len(ordered)
    total_cost = sum(costs)
    if max_images_per_task is not None:
        max_files = max_images_per_task
    else:  # no image read: no file bound
        max_files = DEFAULT_MAX_IMAGES_PER_TASK if reads_pixels else n
    target = _target_cost(
        n,
        total_cost,
        reads_pixels=reads_pixels,
        max_images_per_task=max_files,
        workers=workers,
        previous_target=previous_target,
        max_shards=max_shards,
    )
    limits = _Limits(
        max_images_per_task=max_files,
        max_shards=max_shards,
        wanted=min(n, workers, _jobs_worth(total_cost, reads_pixels, in_parallel=True)),
        total_cost=total_cost,
    )
    # Without a loader or a bound every file costs 1: the cost rule places the boundaries.
    unbounded = max_images_per_task is None and not reads_pixels
    files_target = float(target) if unbounded else _files_target(n, max_files, max_shards)
    ends, target, files_cap = _fit(costs, hashes, target, files_target, limits)
    if not unbounded and files_cap > max_files:
        log.info(
            "max_images_per_task raised from %d to %d to keep at most %d shards",
            max_files,
            files_cap,
            max_shards,
        )
    shards = _shards(ordered, costs, ends, fingerprint)
    log.info(
        "%d entries in %d shards (target cost %d, %.0f files per shard on average)",
        n,
        len(shards),
        target,
        n / len(shards),
    )
    return ShardPlan(shards, target)
