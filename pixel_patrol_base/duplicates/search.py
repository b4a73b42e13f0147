"""Pairs of 64-bit hashes within a Hamming distance: banded (sub-quadratic) and brute force.

Belongs here: :func:`near_pairs` (multi-index hashing over the bands of a
:class:`~.bands.BandPlan`), :func:`brute_force_pairs` (the blocked O(n²) reference) and
:func:`popcount`. Not here: which plan (:mod:`.bands`), what a pair means (:mod:`.sets`).

The banded search, per searched band: the band's value of every hash is a key of at most
:data:`~.bands.MAX_TABLE_BITS` bits; a counting-sort bucket table (count and start of
each key in the hashes sorted by key) gives the hashes of any key in O(1). Each hash
probes its key XOR every mask of at most ``radius`` bits; the hashes in those buckets
are its candidates, kept when their index is larger (each pair once), their full
distance (popcount of the XOR) is within ``max_distance``, and no earlier band of the
plan already finds them (its band distance exceeds its radius): a pair is reported by
the first band that finds it, so no pair is reported twice and no deduplication pass
is needed. The probe loop is a numba kernel (:mod:`.probe`); memory is the hashes, one
band's table (``2**width`` counts and starts, 64 MiB for 22 bits) and the pairs.

Equal hashes are pairs at distance 0, so a group of ``g`` equal hashes gives
``g (g − 1) / 2`` pairs: pass distinct values (``np.unique``) when groups may be large,
as :mod:`.sets` does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from pixel_patrol_base.duplicates.bands import HASH_BITS, Band, BandPlan, flip_masks, plan_bands
from pixel_patrol_base.duplicates.probe import band_pairs
from pixel_patrol_base.errors import InvalidInputError

logger = logging.getLogger(__name__)

PAIR_BUFFER = 1 << 16
"""Pairs the probe kernel writes before handing them back (doubled when one query has
more)."""

BRUTE_BLOCK = 1 << 22
"""Most pairs compared at once by :func:`brute_force_pairs`."""

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)


@dataclass(frozen=True, eq=False)
class Pairs:
    """Index pairs ``left[k] < right[k]``, sorted by (left, right), and their distances."""

    left: np.ndarray
    """int64 indices into the hashes."""
    right: np.ndarray
    """int64 indices into the hashes, each larger than its ``left``."""
    distance: np.ndarray
    """uint8 Hamming distances."""

    def __len__(self) -> int:
        return int(self.left.size)

    def as_array(self) -> np.ndarray:
        """The pairs as an int64 array of shape (k, 2)."""
        return np.stack([self.left, self.right], axis=1)


def popcount(values: np.ndarray) -> np.ndarray:
    """Set bits of each uint64 value, as uint8 (``np.bitwise_count`` where numpy has it)."""
    if hasattr(np, "bitwise_count"):
        return np.asarray(np.bitwise_count(values), dtype=np.uint8)
    return popcount_swar(values)


def popcount_swar(values: np.ndarray) -> np.ndarray:
    """Set bits of each uint64 value, as uint8, by the SWAR bit-counting steps."""
    x = values - ((values >> np.uint64(1)) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return np.asarray((x * _H01) >> np.uint64(56), dtype=np.uint8)


def as_hashes(hashes: np.ndarray) -> np.ndarray:
    """``hashes`` as a contiguous uint64 vector (int64 values reinterpreted bit for bit).

    Raises:
        InvalidInputError: When ``hashes`` is not a 1-D int64 or uint64 array.
    """
    array = np.asarray(hashes)
    if array.ndim != 1 or array.dtype not in (np.dtype(np.int64), np.dtype(np.uint64)):
        raise InvalidInputError(
            f"hashes must be a 1-D int64 or uint64 array, not {array.dtype} of shape {array.shape}"
        )
    return np.ascontiguousarray(array).view(np.uint64)


def _check_distance(max_distance: int) -> None:
    if not 0 <= max_distance <= HASH_BITS:
        raise InvalidInputError(f"max_distance must be 0 to {HASH_BITS}, not {max_distance}")


def _empty() -> Pairs:
    none = np.empty(0, dtype=np.int64)
    return Pairs(none, none.copy(), np.empty(0, dtype=np.uint8))


def brute_force_pairs(hashes: np.ndarray, max_distance: int) -> Pairs:
    """Every pair within ``max_distance`` bits, by comparing all pairs (blocked, O(n²)).

    Args:
        hashes: 1-D int64 or uint64 array of 64-bit hashes.
        max_distance: Largest Hamming distance reported (0 to 64).

    Returns:
        The pairs, sorted by (left, right).

    Raises:
        InvalidInputError: For hashes that are not a 1-D 64-bit integer array, or a
            distance outside 0 to 64.
    """
    values = as_hashes(hashes)
    _check_distance(max_distance)
    n = values.size
    lefts, rights, dists = [], [], []
    start = 0
    while start < n - 1:
        rows = max(1, BRUTE_BLOCK // (n - start))
        stop = min(n - 1, start + rows)
        dist = popcount(values[start:stop, None] ^ values[None, start:])
        block_left, offset = np.nonzero(dist <= max_distance)
        left, right = block_left + start, offset + start
        keep = right > left
        lefts.append(left[keep].astype(np.int64))
        rights.append(right[keep].astype(np.int64))
        dists.append(dist[block_left[keep], offset[keep]])
        start = stop
    if not lefts:
        return _empty()
    # Row-major nonzero over blocks of increasing rows: already sorted by (left, right).
    return Pairs(np.concatenate(lefts), np.concatenate(rights), np.concatenate(dists))


def near_pairs(hashes: np.ndarray, max_distance: int, *, plan: BandPlan | None = None) -> Pairs:
    """Every pair within ``max_distance`` bits, by multi-index hashing (sub-quadratic).

    Args:
        hashes: 1-D int64 or uint64 array of 64-bit hashes (int64 is read bit for bit).
        max_distance: Largest Hamming distance reported (0 to 64).
        plan: The bands to search; by default :func:`~.bands.plan_bands` chooses them
            (or a brute-force scan, when it is cheaper for so few hashes).

    Returns:
        The pairs, sorted by (left, right): exactly those of :func:`brute_force_pairs`.

    Raises:
        InvalidInputError: For hashes that are not a 1-D 64-bit integer array, a distance
            outside 0 to 64, or a ``plan`` that cannot find every pair at that distance.
    """
    values = as_hashes(hashes)
    _check_distance(max_distance)
    if plan is None:
        plan = plan_bands(int(values.size), max_distance)
        if plan is None:
            return brute_force_pairs(values, max_distance)
    if plan.max_distance < max_distance:
        raise InvalidInputError(
            f"the band plan finds every pair only up to distance {plan.max_distance}, "
            f"not {max_distance}; pass a plan whose sum of (radius + 1) exceeds it"
        )
    n = int(values.size)
    found: list[np.ndarray] = []
    for index, band in enumerate(plan.bands):
        earlier = np.array([[b.mask, b.radius] for b in plan.bands[:index]], dtype=np.uint64)
        found.extend(_band_pairs(values, band, earlier.reshape(-1, 2), max_distance))
    if not found:
        return _empty()
    left, right, dist = np.concatenate(found, axis=1)
    order = np.argsort(left * n + right, kind="stable")
    logger.debug("banded search: %d hashes, %d pairs within %d", n, order.size, max_distance)
    return Pairs(left[order], right[order], dist[order].astype(np.uint8))


def _band_pairs(
    values: np.ndarray, band: Band, earlier: np.ndarray, max_distance: int
) -> Iterator[np.ndarray]:
    """The (3, k) blocks of (left, right, distance) that one band finds first."""
    keys = ((values >> np.uint64(band.shift)) & np.uint64((1 << band.width) - 1)).astype(np.int64)
    order = np.argsort(keys, kind="stable").astype(np.int64)
    starts = np.zeros((1 << band.width) + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=1 << band.width), out=starts[1:])
    table = (order, values[order], starts, flip_masks(band.width, band.radius))
    del keys
    out = np.empty((3, PAIR_BUFFER), dtype=np.int64)
    query = 0
    while query < values.size:
        span = np.array([query, values.size, max_distance, band.shift, band.width], np.int64)
        written, stop = band_pairs(table, earlier, span, out)
        if written:
            yield out[:, :written].copy()
        if stop == query and not written:  # one query's pairs do not fit: grow
            out = np.empty((3, 2 * out.shape[1]), dtype=np.int64)
        query = stop
