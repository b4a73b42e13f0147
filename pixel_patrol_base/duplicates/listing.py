"""The duplicate sets of a written report, read back from its columns alone.

Belongs here: :func:`duplicate_sets`, behind :func:`pixel_patrol_base.api.duplicates` and
``pixel-patrol duplicates``. The merge found the sets (:mod:`.sets`) and wrote
``duplicate_set``, ``duplicate_kind`` and ``duplicate_of`` on each member row; this
module groups those rows again and recomputes each set's evidence (the largest pHash
distance and the smallest signature correlation between its members) from the report's
``phash`` and ``signature`` columns. No image is read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from pixel_patrol_base.duplicates.search import as_hashes, popcount
from pixel_patrol_base.errors import NotAReportError
from pixel_patrol_base.table.columns import NON_SPATIAL_AXES

SET_SCHEMA: dict[str, pl.DataType] = {
    "set": pl.String(),
    "kind": pl.String(),
    "size": pl.Int64(),
    "paths": pl.List(pl.String()),
    "child_ids": pl.List(pl.String()),
    "planes": pl.List(pl.String()),
    "distance": pl.Int64(),
    "correlation": pl.Float64(),
}
"""Columns of :func:`duplicate_sets`' frame."""
MAX_COMPARED = 64
"""Most members of one set compared pairwise for the evidence (larger sets: the first 64)."""
_NEEDED = ("path", "child_id", "obs_level", "duplicate_set", "duplicate_kind", "duplicate_of")
_EVIDENCE = ("phash", "signature")
_PLANE_AXES = tuple(f"dim_{a.lower()}" for a in NON_SPATIAL_AXES if a != "S")
"""The ``dim_*`` columns that name a plane: T, C, Z and the further axes (H, E, M, ...)."""


def _plane_label(row: dict[str, object]) -> str:
    """``z=3`` (or ``t=1, c=0, z=3``) for a slice row; ``""`` for an image row."""
    parts = [f"{a[4:]}={row[a]}" for a in _PLANE_AXES if row.get(a) is not None]
    return ", ".join(parts)


def _evidence(members: pl.DataFrame) -> tuple[int | None, float | None]:
    """Largest pairwise pHash distance and smallest signature correlation of members."""
    members = members.head(MAX_COMPARED)
    distance = None
    if "phash" in members.columns and members["phash"].null_count() < members.height:
        hashes = as_hashes(members["phash"].drop_nulls().to_numpy().astype(np.int64))
        xor = hashes[:, None] ^ hashes[None, :]
        distance = int(popcount(xor.ravel()).max())
    correlation = None
    if "signature" in members.columns:
        signatures = [s for s in members["signature"].to_list() if s]
        if len(signatures) > 1 and len({len(s) for s in signatures}) == 1:
            vectors = np.stack([np.frombuffer(s, dtype=np.uint8) for s in signatures])
            with np.errstate(invalid="ignore", divide="ignore"):
                matrix = np.corrcoef(vectors.astype(np.float64))
            if np.isfinite(matrix).all():
                correlation = float(matrix.min())
    return distance, correlation


def duplicate_sets(report: str | Path) -> pl.DataFrame:
    """The duplicate sets recorded in ``report``, one row per set (:data:`SET_SCHEMA`).

    Sets are ordered by kind (exact, near, plane), then by their first path. ``paths``,
    ``child_ids`` and ``planes`` list the members in order (a plane set repeats its
    image's path, with ``planes`` naming each plane). ``distance`` is 0 for exact sets;
    ``correlation`` is null where the members have no signatures (empty images).

    Raises:
        NotAReportError: when ``report`` cannot be read as a report.
    """
    path = Path(report)
    try:
        names = pq.read_schema(path).names
    except (OSError, ValueError) as exc:
        raise NotAReportError(f"'{path}' is not a readable report ({exc})") from exc
    if "duplicate_set" not in names:
        return pl.DataFrame(schema=SET_SCHEMA)
    columns = [c for c in (*_NEEDED, *_PLANE_AXES, *_EVIDENCE) if c in names]
    try:
        rows = (
            pl.scan_parquet(path)
            .select(columns)
            .filter(pl.col("duplicate_set").is_not_null())
            .collect()
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise NotAReportError(f"'{path}' could not be read ({exc})") from exc
    out = []
    for (set_id,), members in rows.group_by(["duplicate_set"], maintain_order=True):
        members = members.sort([c for c in ("path", "child_id", *_PLANE_AXES) if c in columns])
        kind = str(members["duplicate_kind"][0])
        distance, correlation = _evidence(members)
        if kind == "exact":
            distance, correlation = 0, None
        out.append(
            {
                "set": set_id,
                "kind": kind,
                "size": members.height,
                "paths": members["path"].to_list(),
                "child_ids": members["child_id"].to_list() if "child_id" in columns else [],
                "planes": [_plane_label(r) for r in members.iter_rows(named=True)],
                "distance": distance,
                "correlation": correlation,
            }
        )
    order = {"exact": 0, "near": 1, "plane": 2}
    frame = pl.DataFrame(out, schema=SET_SCHEMA)
    return frame.sort(
        pl.col("kind").replace_strict(order, default=3), pl.col("paths").list.first(), "set"
    )
