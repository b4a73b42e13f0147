"""The compiled probe loop of the banded search: one band, a range of queries.

Belongs here: :func:`band_pairs`, the numba kernel (compiled at its first call, see
:mod:`pixel_patrol_base.imaging.kernels.lazy`) that probes a band's bucket table for a
range of query hashes and writes the pairs it finds. Not here: the tables and the loop
over bands and query ranges (:mod:`.search`).

For query ``i`` and each flip mask ``f`` of the band, the bucket ``key(i) ^ f`` holds
the candidates ``j`` (sorted by index); a candidate is a pair when ``j > i``, the
popcount of ``h[i] ^ h[j]`` is at most ``max_distance``, and no earlier band of the plan
finds it (in every earlier band the pair differs in more bits than that band's radius).
So each pair is written once, by the first band that finds it. One pass over the
candidates, with no temporary arrays: the numpy formulation of the same steps spent
three quarters of its time building and filtering arrays of probes and candidates.

Queries go in the order of their keys, and the candidates' hashes are read from a copy
sorted the same way: consecutive queries have close keys, so each flip mask probes
nearly the same cache line as for the query before, and the table and the hashes are
read almost sequentially instead of at random (this, not the compiled loop, is what
makes the search fast: the same loop over queries in index order was no faster than
numpy, waiting on memory).

The kernel writes into a caller's buffer and stops before the query whose pairs would
overflow it, returning how far it got; the caller grows the buffer when not even one
query fits.
"""

from __future__ import annotations

import numpy as np

from pixel_patrol_base.imaging.kernels.lazy import compiled

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)
_ONE = np.uint64(1)
_TWO = np.uint64(2)
_FOUR = np.uint64(4)
_TOP = np.uint64(56)


@compiled
def band_pairs(
    band: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    earlier: np.ndarray,
    span: np.ndarray,
    out: np.ndarray,
) -> tuple[int, int]:
    """Pairs of the queries at positions ``span[0] .. span[1] − 1`` of the key order.

    Args:
        band: The band's ``order`` (hash indices sorted by key, int64), ``hashes``
            (uint64, in that order), ``starts`` (int64, ``2**width + 1``: key ``k``'s
            hashes are at positions ``starts[k] .. starts[k + 1] − 1``) and ``flips``
            (int64 masks of at most ``radius`` bits).
        earlier: uint64 (k, 2): the mask and the radius of each earlier band.
        span: int64 ``[first position, end position, max_distance, shift, width]``.
        out: int64 (3, capacity) buffer: left, right, distance.

    Returns:
        The number of pairs written and the first position not processed.
    """
    order, hashes, starts, flips = band
    first, end, max_distance = span[0], span[1], span[2]
    shift = np.uint64(span[3])
    key_mask = (_ONE << np.uint64(span[4])) - _ONE
    capacity = out.shape[1]
    written = 0
    for q in range(first, end):
        mark = written
        i = order[q]
        value = hashes[q]
        key = np.int64((value >> shift) & key_mask)
        for f in range(flips.size):
            bucket = key ^ flips[f]
            for p in range(starts[bucket], starts[bucket + 1]):
                j = order[p]
                if j <= i:
                    continue
                x = value ^ hashes[p]
                y = x - ((x >> _ONE) & _M1)
                y = (y & _M2) + ((y >> _TWO) & _M2)
                distance = np.int64((((y + (y >> _FOUR)) & _M4) * _H01) >> _TOP)
                if distance > max_distance:
                    continue
                new = True
                for e in range(earlier.shape[0]):
                    z = x & earlier[e, 0]
                    z = z - ((z >> _ONE) & _M1)
                    z = (z & _M2) + ((z >> _TWO) & _M2)
                    if (((z + (z >> _FOUR)) & _M4) * _H01) >> _TOP <= earlier[e, 1]:
                        new = False
                        break
                if not new:
                    continue
                if written == capacity:
                    return mark, q
                out[0, written] = i
                out[1, written] = j
                out[2, written] = distance
                written += 1
    return written, end
