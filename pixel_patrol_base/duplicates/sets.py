"""Duplicate sets of a report: from the hash columns to sets, row assignments and a summary.

Belongs here: :func:`find_duplicates`, the thresholds (:class:`DuplicateRules`) and the
output (:class:`Duplicates`). Not here: the pairing itself (:mod:`.images`,
:mod:`.planes`), reading or writing the report (the merge step calls this).

Call graph::

    find_duplicates
    ├── images.image_components   level-0 rows: exact (content_hash) and near (phash + signature)
    ├── planes.plane_components   leaf planes: equal plane_hash, plane_noise_distance < 0.5
    └── _frames                   stable set ids, assignments, sets frame, summary

**The kinds.** Every row is in at most one set:

- ``exact``: images (level 0) with equal ``content_hash`` (the same dtype, shape and
  pixels, whatever the file format), and no near duplicate outside them.
- ``near``: images linked by pairs whose phash Hamming distance is at most
  :data:`NEAR_MAX_DISTANCE` and whose signature correlation is at least
  :data:`NEAR_MIN_CORRELATION`, transitively. Copies with equal pixels count as one image
  for the search; when that image has a near duplicate, all the copies are members of
  the near set (a user sees one set of "the same picture"). Images without a phash
  (empty images) are never near duplicates, only exact ones.
- ``plane``: leaf planes of one image (same path and child id) with equal
  ``plane_hash``, or a plane whose ``plane_noise_distance`` is below
  :data:`PLANE_MAX_NOISE_DISTANCE`, linked to its predecessor in the stack.

**Stable ids.** ``duplicate_set`` is ``"dup-"`` and 12 hex digits of a BLAKE2b hash of
the set's kind and of its members' keys (path, child id and, for planes, their indices
such as ``z=3``) in sorted order, so the id depends on the members only, never on row
numbers, shard order or the run. ``duplicate_of`` is the first member's path in that
order (by path, then child id, then plane indices).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pixel_patrol_base.duplicates.bands import HASH_BITS
from pixel_patrol_base.duplicates.images import Components, image_components
from pixel_patrol_base.duplicates.planes import plane_components
from pixel_patrol_base.duplicates.signatures import SignatureFetcher
from pixel_patrol_base.errors import InvalidInputError

NEAR_MAX_DISTANCE = 6
"""Largest phash Hamming distance (of 64 bits) of a near pair. Microscopy copies (8-bit
rescale, JPEG, re-acquisition) are at 0–2, unrelated images at 22 or more (research
notes, section 2.1)."""

NEAR_MIN_CORRELATION = 0.95
"""Smallest Pearson correlation of the two signatures that confirms a near pair (a
defocused copy: 0.97; a 12 px stage shift: 0.25)."""

PLANE_MAX_NOISE_DISTANCE = 0.5
"""A plane whose ``plane_noise_distance`` is below this duplicates its predecessor:
independent exposures are 1.2–2.0, a copy with ±1 LSB jitter 0.2."""

KINDS = ("exact", "near", "plane")
"""The values of ``duplicate_kind``, in the order the sets frame lists them."""

REQUIRED_COLUMNS = (
    "row",
    "path",
    "child_id",
    "obs_level",
    "content_hash",
    "plane_hash",
    "phash",
    "plane_noise_distance",
)
"""Columns :func:`find_duplicates` needs (and the ``dim_*`` columns present)."""

_AXIS_ORDER = ("t", "c", "z")


@dataclass(frozen=True)
class DuplicateRules:
    """The thresholds of :func:`find_duplicates` (defaults: the module constants).

    Raises:
        InvalidInputError: For a distance outside 0 to 64 or a correlation above 1.
    """

    near_max_distance: int = NEAR_MAX_DISTANCE
    near_min_correlation: float = NEAR_MIN_CORRELATION
    plane_max_noise_distance: float = PLANE_MAX_NOISE_DISTANCE

    def __post_init__(self) -> None:
        if not 0 <= self.near_max_distance <= HASH_BITS:
            raise InvalidInputError(
                f"near_max_distance must be 0 to {HASH_BITS}, not {self.near_max_distance}"
            )
        if not self.near_min_correlation <= 1.0:
            raise InvalidInputError(
                f"near_min_correlation must be at most 1, not {self.near_min_correlation}"
            )


@dataclass(frozen=True, eq=False)
class Duplicates:
    """The duplicate sets of a report."""

    assignments: pl.DataFrame
    """One row per member of a set, sorted by ``row``: ``row`` (int64), ``duplicate_set``,
    ``duplicate_kind``, ``duplicate_of`` (strings)."""
    sets: pl.DataFrame
    """One row per set (see :data:`SETS_SCHEMA`), by kind then ``duplicate_of``."""
    summary: dict[str, int] = field(default_factory=dict)
    """Counts for the footer: ``sets``, ``exact_sets``, ``near_sets``, ``plane_sets``,
    ``images_in_sets`` (level-0 rows in exact or near sets), ``planes_in_sets`` and
    ``images_with_duplicate_planes``."""


SETS_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "duplicate_set": pl.String,
    "duplicate_kind": pl.String,
    "duplicate_of": pl.String,
    "paths": pl.List(pl.String),
    "child_ids": pl.List(pl.String),
    "planes": pl.List(pl.String),
    "rows": pl.List(pl.Int64),
    "distance": pl.Int64,
    "correlation": pl.Float64,
    "noise_distance": pl.Float64,
}
"""The sets frame: id, kind, first path; members' paths, child ids, plane indices (e.g.
``"t=0 z=3"``; null for image sets) and report rows, in member order; ``distance``: the
largest phash Hamming distance of the confirmed pairs (0 for exact, null for plane);
``correlation``: the smallest confirmed signature correlation (near only);
``noise_distance``: the largest noise distance linking the planes (plane only; 0 when
only equal plane hashes link them)."""

ASSIGNMENTS_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "row": pl.Int64,
    "duplicate_set": pl.String,
    "duplicate_kind": pl.String,
    "duplicate_of": pl.String,
}
"""The assignments frame."""


def find_duplicates(
    rows: pl.DataFrame,
    fetch_signatures: SignatureFetcher | None = None,
    rules: DuplicateRules | None = None,
) -> Duplicates:
    """Exact, near and plane duplicate sets of the rows of a report.

    Args:
        rows: One row per report row with hashes, with the :data:`REQUIRED_COLUMNS`
            and the report's ``dim_*`` index columns; ``row`` is the row's index in
            the report (distinct).
        fetch_signatures: Gives the signatures (bytes of uint8 values, or ``None``) of
            sorted report rows; it is called once, with the candidate near pairs' rows
            only. By default they are read from a ``signature`` column of ``rows``.
        rules: The thresholds (default: :class:`DuplicateRules`).

    Returns:
        The assignments, the sets and the summary.

    Raises:
        InvalidInputError: When a column is missing, ``row`` repeats, or signatures are
            of several lengths.
    """
    rules = rules or DuplicateRules()
    _check(rows, fetch_signatures)
    fetch = fetch_signatures or _column_fetcher(rows)
    dims = _dims(rows)
    images = rows.filter(pl.col("obs_level") == 0).sort(
        ["path", "child_id", "row"], nulls_last=False
    )
    planes = rows.filter(
        (pl.col("obs_level") >= 1)
        & (pl.col("plane_hash").is_not_null() | pl.col("plane_noise_distance").is_not_null())
    ).sort(["path", "child_id", *dims], nulls_last=False)
    found_images = image_components(
        images,
        fetch,
        max_distance=rules.near_max_distance,
        min_correlation=rules.near_min_correlation,
    )
    found_planes = plane_components(planes, dims, threshold=rules.plane_max_noise_distance)
    members = pl.concat(
        [
            _members(images, found_images, dims, offset=0),
            _members(planes, found_planes, dims, offset=images.height),
        ]
    )
    return _frames(members)


def _check(rows: pl.DataFrame, fetch: SignatureFetcher | None) -> None:
    wanted = [*REQUIRED_COLUMNS, *([] if fetch is not None else ["signature"])]
    missing = [name for name in wanted if name not in rows.columns]
    if missing:
        hint = " (or pass fetch_signatures)" if "signature" in missing else ""
        raise InvalidInputError(f"duplicate search needs the columns {missing}{hint}")
    if rows["row"].n_unique() != rows.height:
        raise InvalidInputError("duplicate search needs distinct values in column 'row'")


def _column_fetcher(rows: pl.DataFrame) -> SignatureFetcher:
    def fetch(wanted: np.ndarray) -> Sequence[bytes | None]:
        found = rows.filter(pl.col("row").is_in(wanted.tolist())).sort("row")
        return list(found["signature"].to_list())

    return fetch


def _dims(rows: pl.DataFrame) -> list[str]:
    """The integer ``dim_*`` columns, T, C, Z first, then the others by name."""
    dims = [
        name
        for name, dtype in rows.schema.items()
        if name.startswith("dim_") and dtype.is_integer()
    ]

    def rank(name: str) -> tuple[int, str]:
        axis = name.removeprefix("dim_")
        order = _AXIS_ORDER.index(axis) if axis in _AXIS_ORDER else len(_AXIS_ORDER)
        return order, axis

    return sorted(dims, key=rank)


def _members(
    frame: pl.DataFrame, found: Components, dims: list[str], *, offset: int
) -> pl.DataFrame:
    """The rows of ``frame`` in sets, with their component and its facts."""
    label = pl.concat_str(
        [
            pl.when(pl.col(d).is_not_null()).then(
                pl.lit(d.removeprefix("dim_") + "=") + pl.col(d).cast(pl.String)
            )
            for d in dims
        ],
        separator=" ",
        ignore_nulls=True,
    )
    is_plane = pl.col("obs_level") >= 1
    table = frame.select(
        pl.col("row").cast(pl.Int64),
        pl.col("path").cast(pl.String),
        pl.col("child_id").cast(pl.String),
        (pl.when(is_plane).then(label) if dims else pl.lit(None, pl.String)).alias("plane"),
    ).with_columns(
        pos=pl.int_range(pl.len(), dtype=pl.Int64) + offset,
        component=pl.Series(found.component) + offset,
        kind=pl.Series(found.kind.tolist(), dtype=pl.String),
        distance=pl.Series(found.distance, dtype=pl.Int64),
        value=pl.Series(found.correlation, dtype=pl.Float64),
    )
    return table.filter(pl.Series(found.component >= 0))


def _set_id(kind: str, keys: list[str]) -> str:
    text = "\n".join([kind, *keys]).encode("utf-8")
    return "dup-" + hashlib.blake2b(text, digest_size=6).hexdigest()


def _frames(members: pl.DataFrame) -> Duplicates:
    key = pl.concat_str(
        pl.col("path"),
        pl.col("child_id").fill_null("\x00"),
        pl.col("plane").fill_null(""),
        separator="\x1f",
    )
    grouped = (
        members.sort("pos")
        .with_columns(key.alias("key"))
        .group_by("component", maintain_order=True)
        .agg(
            pl.col("kind").first().alias("duplicate_kind"),
            pl.col("path").first().alias("duplicate_of"),
            pl.col("path").alias("paths"),
            pl.col("child_id").alias("child_ids"),
            pl.col("plane").alias("planes"),
            pl.col("row").alias("rows"),
            pl.col("key").alias("keys"),
            pl.col("distance").first(),
            pl.col("value").first(),
        )
    )
    ids = [
        _set_id(kind, keys)
        for kind, keys in zip(grouped["duplicate_kind"], grouped["keys"], strict=True)
    ]
    kind = pl.col("duplicate_kind")
    sets = (
        grouped.with_columns(
            pl.Series("duplicate_set", ids, dtype=pl.String),
            pl.when(kind == "plane").then("planes").otherwise(None).alias("planes"),
            pl.when(kind == "plane").then(pl.lit(None)).otherwise("distance").alias("distance"),
            pl.when(kind == "near").then("value").otherwise(None).alias("correlation"),
            pl.when(kind == "plane").then("value").otherwise(None).alias("noise_distance"),
            kind.replace_strict({k: i for i, k in enumerate(KINDS)}, return_dtype=pl.Int8).alias(
                "_order"
            ),
        )
        .sort(["_order", "duplicate_of", "duplicate_set"])
        .select([pl.col(name).cast(dtype) for name, dtype in SETS_SCHEMA.items()])
    )
    assignments = (
        sets.select("duplicate_set", "duplicate_kind", "duplicate_of", "rows")
        .explode("rows")
        .rename({"rows": "row"})
        .sort("row")
        .select([pl.col(name).cast(dtype) for name, dtype in ASSIGNMENTS_SCHEMA.items()])
    )
    return Duplicates(assignments, sets, _summary(sets))


def _summary(sets: pl.DataFrame) -> dict[str, int]:
    counts = dict.fromkeys(KINDS, 0)
    sizes = dict.fromkeys(KINDS, 0)
    for kind, size in zip(sets["duplicate_kind"], sets["rows"].list.len(), strict=True):
        counts[kind] += 1
        sizes[kind] += int(size)
    planes = sets.filter(pl.col("duplicate_kind") == "plane")
    images = planes.select(pl.col("paths").list.first(), pl.col("child_ids").list.first()).unique()
    return {
        "sets": sets.height,
        "exact_sets": counts["exact"],
        "near_sets": counts["near"],
        "plane_sets": counts["plane"],
        "images_in_sets": sizes["exact"] + sizes["near"],
        "planes_in_sets": sizes["plane"],
        "images_with_duplicate_planes": images.height,
    }
