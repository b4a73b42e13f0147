"""The kernels of exact counting and selection: value counts of small integers, and the
counting and gathering step of exact order statistics.

Belongs here: :func:`count_values` (behind
:meth:`~pixel_patrol_base.imaging.stats.IntCounts.of`) and :func:`split` (behind
:mod:`pixel_patrol_base.imaging.order`). Not here: choosing brackets or ranks, and
merging counts (those modules).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from pixel_patrol_base.imaging.kernels.lazy import compiled
from pixel_patrol_base.imaging.types import FloatArray


@compiled
def _split(
    values: FloatArray, low: float, high: float, first: int, last: int, limit: int
) -> tuple[int, int, int, int, FloatArray]:
    n = values.size
    mask = np.empty(n, np.uint8)
    below = closed = 0
    for i in range(n):  # vectorised: comparisons only (−0.0 compares equal to +0.0)
        value = values[i]
        marked = (value >= low) & (value <= high)
        below += value < low
        mask[i] = marked
        closed += marked
    if low == high:  # one tie
        return below, closed, 0, 0, np.empty(0)
    at_low = at_high = 0
    inside = closed
    if closed > limit:  # ties at the ends: counted in a second sweep, never gathered
        inside = 0
        for i in range(n):  # vectorised
            value = values[i]
            marked = (value > low) & (value < high)
            at_low += value == low
            mask[i] = marked
            inside += marked
        at_high = closed - at_low - inside
        start = below + at_low
        if last < start or first >= start + inside:  # no wanted rank strictly inside
            return below, at_low, inside, at_high, np.empty(0)
    out = np.empty(inside + 8)
    found = 0
    whole = n // 8
    words = mask[: 8 * whole].view(np.uint64)  # eight marks at a time: most words are 0
    for w in range(whole):
        if words[w]:
            for i in range(8 * w, 8 * w + 8):
                out[found] = values[i]  # kept only where marked: no branch to mispredict
                found += mask[i]
    for i in range(8 * whole, n):
        out[found] = values[i]
        found += mask[i]
    return below, at_low, inside, at_high, out[:inside]


class Split(NamedTuple):
    """Where values lie about a bracket [low, high], in sorted order: ``below`` values
    under ``low``, ``at_low`` equal to it, ``inside`` others of [low, high], ``at_high``
    equal to ``high``, then the rest.

    Values equal to an end are counted in ``at_low`` and ``at_high`` when [low, high]
    holds many values (ties), or when ``low == high``; otherwise both are 0 and those
    values are among the ``inside`` ones."""

    below: int
    at_low: int
    inside: int
    at_high: int
    values: FloatArray
    """The ``inside`` values (a copy, in their order); empty when the values equal to the
    ends were counted and every wanted rank is among those."""


def split(
    values: FloatArray, low: float, high: float, wanted: tuple[int, int], expected: int
) -> Split:
    """Count the values below and at the ends of [low, high], and gather the others of
    [low, high] when a wanted rank may lie among them.

    With ties (an integer-valued field, most of it 0) nearly every value can equal an
    end: a second sweep then counts the values equal to either, so that a rank among
    them is known without moving any value, and only the values strictly between the
    ends are gathered. It is made when [low, high] holds more than twice ``expected``.

    Args:
        values: Finite values, 1D and C-contiguous.
        low: Lower end.
        high: Upper end, at least ``low``.
        wanted: Smallest and largest wanted 0-based rank among all ``values``.
        expected: About how many values [low, high] would hold without ties.
    """
    first, last = wanted
    return Split(*_split(values, float(low), float(high), first, last, 2 * expected))


@compiled
def _count(flat: npt.NDArray[Any], low: int, size: int) -> npt.NDArray[np.int64]:
    # Two interleaved tallies: runs of equal neighbours (common in images) would
    # otherwise make every increment wait for the one before.
    even = np.zeros(size, np.int64)
    odd = np.zeros(size, np.int64)
    pairs = flat.size // 2
    for i in range(pairs):
        even[flat[2 * i] - low] += 1
        odd[flat[2 * i + 1] - low] += 1
    if flat.size % 2:
        even[flat[flat.size - 1] - low] += 1
    return even + odd


def count_values(flat: npt.NDArray[Any], low: int, high: int) -> npt.NDArray[np.int64]:
    """``counts[v − low]``: how many of ``flat`` equal ``v``, for ``v`` in [low, high].

    Args:
        flat: uint8 or uint16 values, 1D and C-contiguous, all within [low, high].
        low: Smallest value.
        high: Largest value.
    """
    return _count(flat, int(low), int(high) - int(low) + 1)
