"""Duplicated planes within one image: the components over its leaf-plane rows.

Belongs here: :func:`plane_components`. Not here: image-level duplicates
(:mod:`.images`), the output frames (:mod:`.sets`).

Two leaf planes of one image (same path and child id) are linked when

- their ``plane_hash`` is equal (the same pixels), or
- the later one's ``plane_noise_distance`` (std(P − P_prev) / (√2·σ_noise), against the
  previous plane of the stack) is below the threshold: it is closer to its predecessor
  than two exposures can be.

The previous plane is the plane with the same indices except one less along the stack
axis: Z when the image's leaf planes have more than one Z index, else T (the axis along
which the hash processor measures ``plane_noise_distance``). Linked planes form sets
transitively. A set's ``noise_distance`` is the largest noise distance of its noise
links (0 when only equal hashes link it).
"""

from __future__ import annotations

import logging

import numpy as np
import polars as pl

from pixel_patrol_base.duplicates.images import Components
from pixel_patrol_base.duplicates.unionfind import UnionFind

logger = logging.getLogger(__name__)

STACK_AXES = ("dim_z", "dim_t")
"""Stack axes in order of preference: the first with more than one index in an image."""

_IMAGE = ("path", "child_id")


def _hash_links(planes: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive positions of the planes of one image sharing a plane_hash."""
    linked = (
        planes.with_row_index("pos")
        .filter(pl.col("plane_hash").is_not_null())
        .sort([*_IMAGE, "plane_hash", "pos"], nulls_last=True)
        .with_columns(
            pl.col("pos").shift(1).over([*_IMAGE, "plane_hash"]).alias("prev"),
        )
        .filter(pl.col("prev").is_not_null())
    )
    return linked["prev"].to_numpy().astype(np.int64), linked["pos"].to_numpy().astype(np.int64)


def _noise_links(
    planes: pl.DataFrame, dims: list[str], threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(previous plane, plane, noise distance) for the planes closer than noise allows."""
    axes = [axis for axis in STACK_AXES if axis in dims]
    none = np.empty(0, np.int64)
    if not axes:
        return none, none, np.empty(0)
    keyed = (
        planes.with_row_index("pos")
        .with_columns(pl.col(dim).fill_null(-1) for dim in dims)
        .with_columns(pl.col("child_id").fill_null("\x00"))
    )
    stack = pl.coalesce(
        *(
            pl.when(pl.col(axis).filter(pl.col(axis) >= 0).n_unique().over(_IMAGE) > 1).then(
                pl.lit(axis)
            )
            for axis in axes
        ),
        pl.lit(axes[-1]),
    )
    keyed = keyed.with_columns(stack.alias("_stack"))
    close = keyed.filter(pl.col("plane_noise_distance") < threshold)
    lefts, rights, values = [none], [none], [np.empty(0)]
    for axis in axes:
        wanted = close.filter(pl.col("_stack") == axis).with_columns(pl.col(axis) - 1)
        found = wanted.join(
            keyed.select([*_IMAGE, *dims, pl.col("pos").alias("prev")]),
            on=[*_IMAGE, *dims],
            how="inner",
        )
        if found.height < wanted.height:
            logger.warning(
                "%d planes closer than noise to a previous plane that is not in the table",
                wanted.height - found.height,
            )
        lefts.append(found["prev"].to_numpy().astype(np.int64))
        rights.append(found["pos"].to_numpy().astype(np.int64))
        values.append(found["plane_noise_distance"].to_numpy().astype(np.float64))
    return np.concatenate(lefts), np.concatenate(rights), np.concatenate(values)


def plane_components(planes: pl.DataFrame, dims: list[str], *, threshold: float) -> Components:
    """Sets of duplicated planes, each within one image.

    Args:
        planes: Leaf-plane rows (``obs_level ≥ 1``) with ``path``, ``child_id``, the
            ``dims`` columns, ``plane_hash`` and ``plane_noise_distance``.
        dims: The ``dim_*`` columns of ``planes``.
        threshold: Noise distance below which a plane duplicates its predecessor.

    Returns:
        The component of each plane row, in the order of ``planes``; ``distance`` is
        0 and ``correlation`` holds the set's noise distance.
    """
    union = UnionFind(planes.height)
    left, right = _hash_links(planes)
    union.union(left, right, 0.0, 0.0)
    left, right, noise = _noise_links(planes, dims, threshold)
    union.union(left, right, noise, noise)
    roots = union.roots()
    in_set = np.bincount(roots, minlength=roots.size)[roots] > 1
    kind = np.full(roots.size, None, dtype=object)
    kind[in_set] = "plane"
    return Components(
        component=np.where(in_set, roots, -1).astype(np.int64),
        kind=kind,
        distance=np.zeros(roots.size, dtype=np.int64),
        correlation=np.where(in_set, union.high(), np.nan),
    )
