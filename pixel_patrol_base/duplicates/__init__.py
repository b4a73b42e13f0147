"""Duplicate images and planes: the search over 64-bit hashes and the duplicate sets.

Runs after the merge, on every row of the report (duplicates span shards); the hashes it
reads are computed in the shard jobs by the ``raster-hash`` processor.

Modules:
    bands: how the 64 bits are cut into bands, the cost model that picks the plan.
    search: :func:`~.search.near_pairs` (multi-index hashing, sub-quadratic) and
        :func:`~.search.brute_force_pairs` (the O(n²) reference).
    signatures: the lazily fetched signatures as unit vectors, their correlations.
    unionfind: components of confirmed pairs, streamed, with per-set aggregates (numba).
    images: exact (content_hash) and near (phash + signature) sets of level-0 rows.
    planes: duplicated planes within an image (plane_hash, plane_noise_distance).
    probe: the compiled probe loop of one band (numba).
    sets: :func:`~.sets.find_duplicates`, from hash columns to sets, assignments, summary.
    listing: the sets of a written report, read back from its columns.

Call graph::

    sets.find_duplicates
    ├── images.image_components ── search.near_pairs ── bands.plan_bands
    │                           └─ signatures.Signatures, unionfind.UnionFind
    └── planes.plane_components ── unionfind.UnionFind
"""

from __future__ import annotations

from pixel_patrol_base.duplicates.bands import BandPlan, plan_bands
from pixel_patrol_base.duplicates.search import Pairs, brute_force_pairs, near_pairs
from pixel_patrol_base.duplicates.sets import (
    KINDS,
    NEAR_MAX_DISTANCE,
    NEAR_MIN_CORRELATION,
    PLANE_MAX_NOISE_DISTANCE,
    DuplicateRules,
    Duplicates,
    find_duplicates,
)
from pixel_patrol_base.duplicates.signatures import SignatureFetcher

__all__ = [
    "KINDS",
    "NEAR_MAX_DISTANCE",
    "NEAR_MIN_CORRELATION",
    "PLANE_MAX_NOISE_DISTANCE",
    "BandPlan",
    "DuplicateRules",
    "Duplicates",
    "Pairs",
    "SignatureFetcher",
    "brute_force_pairs",
    "find_duplicates",
    "near_pairs",
    "plan_bands",
]
