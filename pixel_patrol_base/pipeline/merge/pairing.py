"""The duplicate step of the merge: duplicate sets across every chunk, from hashes alone.

What belongs here: which columns the pairing reads (kept in the merge's first pass with
the QC columns), reading the ``signature`` of the candidate rows only (a second, narrow
read of the chunks, so the signatures of all rows are never held), and turning the sets
into the ``duplicate_set``, ``duplicate_kind`` and ``duplicate_of`` columns and the
footer's ``duplicates`` entry. What does not: the search and the set rules
(:mod:`pixel_patrol_base.duplicates`) or writing the report (:mod:`.combine`).

Pairing needs every row, so it is the merge's only global step: the shard jobs hash
their own images (processor ``raster-hash``), and an added file reprocesses only its
shard.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow.parquet as pq

DUPLICATE_COLUMNS = ("duplicate_set", "duplicate_kind", "duplicate_of")
"""The per-row duplicate columns, in the order the report holds them."""
HASH_COLUMNS = ("content_hash", "plane_hash", "phash", "plane_noise_distance")
"""The ``raster-hash`` columns the pairing reads for every row."""
SIGNATURE = "signature"
"""Read only for the rows of candidate near pairs."""
KEY_COLUMNS = ("path", "child_id", "obs_level", "dim_t", "dim_c", "dim_z")
FOOTER_KEY = "duplicates"
"""Key of the duplicate summary in the footer metadata."""


@dataclass(frozen=True)
class Pairing:
    """The duplicate columns of every row (report order) and the footer summary."""

    columns: pl.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def inputs(names: Iterable[str]) -> list[str]:
    """The columns of ``names`` the pairing reads in the merge's first pass."""
    present = set(names)
    if not present & set(HASH_COLUMNS):
        return []
    return [name for name in (*KEY_COLUMNS, *HASH_COLUMNS) if name in present]


def _no_duplicates(height: int) -> pl.DataFrame:
    return pl.DataFrame(
        {name: pl.Series(name, [None] * height, pl.String) for name in DUPLICATE_COLUMNS}
    )


class SignatureReader:
    """Reads the ``signature`` of given report rows from the chunks, chunk by chunk."""

    def __init__(self, chunks: Sequence[Path]) -> None:
        self.chunks = list(chunks)
        heights = [pq.read_metadata(chunk).num_rows for chunk in self.chunks]
        self.starts = np.concatenate([[0], np.cumsum(heights)]).astype(np.int64)

    def __call__(self, rows: np.ndarray) -> list[bytes | None]:
        """The signatures of ``rows`` (report row numbers), in the order given."""
        rows = np.asarray(rows, dtype=np.int64)
        out: list[bytes | None] = [None] * rows.size
        which = np.searchsorted(self.starts, rows, side="right") - 1
        for index in np.unique(which):
            chunk = self.chunks[int(index)]
            if SIGNATURE not in pq.read_schema(chunk).names:
                continue
            column = pq.read_table(chunk, columns=[SIGNATURE]).column(SIGNATURE)
            picked = np.flatnonzero(which == index)
            values = column.take(rows[picked] - self.starts[index]).to_pylist()
            for position, value in zip(picked.tolist(), values, strict=True):
                out[position] = value
        return out


def pair(needed: pl.DataFrame, chunks: Sequence[Path]) -> Pairing:
    """The duplicate sets of the merged rows (``needed``: report order, hash columns).

    Rows without hash columns (a run without ``raster-hash``) give null columns and an
    empty summary.
    """
    if not set(HASH_COLUMNS) & set(needed.columns):
        return Pairing(_no_duplicates(needed.height))
    # Imported here: the search compiles numba kernels, which a merge without hashes
    # (file information only, another flavor) never needs.
    from pixel_patrol_base.duplicates.sets import find_duplicates

    rows = needed.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("row"),
        *[c for c in (*KEY_COLUMNS, *HASH_COLUMNS) if c in needed.columns],
    )
    found = find_duplicates(rows, SignatureReader(chunks))
    assigned = found.assignments.select("row", *DUPLICATE_COLUMNS)
    columns = (
        rows.select("row")
        .join(assigned, on="row", how="left", maintain_order="left")
        .select(DUPLICATE_COLUMNS)
    )
    return Pairing(columns, dict(found.summary))
