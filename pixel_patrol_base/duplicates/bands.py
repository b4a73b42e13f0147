"""How the banded search splits the 64 bits of a hash: the plan and its cost model.

Belongs here: :class:`Band`, :class:`BandPlan`, :func:`plan_bands` (the cheapest plan for
a number of hashes and a distance) and the flip masks a band probes. Not here: the
search itself (:mod:`.search`).

**Why a plan finds every pair.** The 64 bits are cut into disjoint bands. A pair at
Hamming distance ``d`` splits ``d`` over the bands, ``d = Σ d_k``. The search probes each
*searched* band ``k`` for the values within ``radius_k`` bits of the query's band value.
A pair is missed only if ``d_k ≥ radius_k + 1`` in every searched band, so
``d ≥ Σ (radius_k + 1)``. A plan with ``Σ (radius_k + 1) > r`` therefore finds every
pair at distance ``≤ r`` (the generalised pigeonhole principle; bits in no searched band
are simply not probed). :attr:`BandPlan.max_distance` is that bound.

**How the plan is chosen.** For each band count ``m`` from 3 to ``max(3, r + 1)``
(widths ``64 // m`` or one more, so that a band's bucket table of ``2**width`` entries
has at most :data:`MAX_TABLE_BITS` bits; more than ``r + 1`` bands would only narrow
the searched ones), a small dynamic programme shares the ``r + 1`` units of
``radius + 1`` among the bands (0 units: the band is not searched), minimising the cost
model of random hashes below; the cheapest ``m`` wins, unless a brute-force scan of all
pairs is cheaper (few hashes, or a large distance), in which case :func:`plan_bands`
returns ``None``. For 1,000,000 hashes and ``r = 6`` it picks 4 bands of 16 bits
searched with radii 0/1/1/1 (1 + 3 · 17 = 52 probes per hash).

The cost of searching a band of ``w`` bits with radius ``s`` over ``n`` hashes is, in
arbitrary units calibrated by ``bench/bench_duplicates.py``::

    2**w · TABLE  +  n · V(w, s) · PROBE  +  n · (n − 1) · V(w, s) / 2**w · CANDIDATE

where ``V(w, s) = Σ_{i ≤ s} C(w, i)`` is the number of probes per hash (values within
``s`` bits) and the last term the expected number of (ordered) random candidates, each
checked by a popcount; a brute-force scan costs ``n (n − 1) / 2 · BRUTE``. The constants
are CPU nanoseconds measured on the 2-core development machine, at 1,000,000 random
hashes and r = 6, by timing five plans (the model ranks them as measured: 16-bit bands
(1, 1, 1, 0) 4.0 s, 22/21/21 bits (2, 1, 1) 5.6 s, (2, 1, 0, 0) on 16 bits 9.2 s,
(2, 2, 2) 14.0 s, (3, 1, 0) 29.4 s). Hashes that
are not random (clustered images) give more candidates than the model says, never fewer
pairs: the plan affects the time, not the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from itertools import combinations
from math import comb

import numpy as np

from pixel_patrol_base.errors import InvalidInputError

HASH_BITS = 64
"""Bits of a hash."""

MAX_TABLE_BITS = 24
"""Widest band: its bucket table has ``2**24 + 1`` int64 starts (128 MiB)."""

TABLE_COST = 1.5
"""Nanoseconds per bucket-table entry (counting, cumulative sum)."""

PROBE_COST = 16.0
"""Nanoseconds per probe (a flipped band value looked up in the bucket table)."""

CANDIDATE_COST = 3.5
"""Nanoseconds per candidate (read, XOR, popcount, compared)."""

BRUTE_COST = 6.0
"""Nanoseconds per pair of the brute-force scan (numpy XOR, popcount, compared)."""

MAX_BANDED_DISTANCE = 24
"""Above this distance :func:`plan_bands` always answers brute force: random 64-bit
hashes are 32 bits apart on average, so such a search reports a large share of all
pairs and no plan saves much."""


@dataclass(frozen=True)
class Band:
    """Bits ``shift .. shift + width − 1`` of the hash, probed within ``radius`` bits."""

    shift: int
    width: int
    radius: int

    @property
    def mask(self) -> int:
        """The band's bits, as a 64-bit mask."""
        return ((1 << self.width) - 1) << self.shift


@dataclass(frozen=True)
class BandPlan:
    """The bands the search probes, in the order it probes them.

    Raises:
        InvalidInputError: When a band is empty, wider than :data:`MAX_TABLE_BITS`,
            outside the 64 bits, has a negative radius, or overlaps another band.
    """

    bands: tuple[Band, ...]

    def __post_init__(self) -> None:
        used = 0
        for band in self.bands:
            if not 1 <= band.width <= MAX_TABLE_BITS or band.radius < 0:
                raise InvalidInputError(
                    f"band {band} must be 1 to {MAX_TABLE_BITS} bits wide with a radius >= 0"
                )
            if band.shift < 0 or band.shift + band.width > HASH_BITS:
                raise InvalidInputError(f"band {band} lies outside the {HASH_BITS} bits")
            if used & band.mask:
                raise InvalidInputError(f"band {band} overlaps another band of the plan")
            used |= band.mask

    @property
    def max_distance(self) -> int:
        """The largest Hamming distance whose every pair the plan is sure to find."""
        return sum(band.radius + 1 for band in self.bands) - 1

    @property
    def probes_per_hash(self) -> int:
        """Bucket lookups per hash, over all bands."""
        return sum(ball_size(band.width, band.radius) for band in self.bands)


def ball_size(width: int, radius: int) -> int:
    """Values within ``radius`` bits of a ``width``-bit value (itself included)."""
    return sum(comb(width, i) for i in range(min(radius, width) + 1))


def band_cost(n: int, width: int, radius: int) -> float:
    """The model's cost of searching one band (see the module docstring)."""
    probes = ball_size(width, radius)
    return (
        (1 << width) * TABLE_COST
        + n * probes * PROBE_COST
        + n * (n - 1) * probes / (1 << width) * CANDIDATE_COST
    )


def brute_force_cost(n: int) -> float:
    """The model's cost of comparing every pair once."""
    return n * (n - 1) / 2 * BRUTE_COST


def _widths(m: int) -> list[int]:
    base, extra = divmod(HASH_BITS, m)
    return [base + 1] * extra + [base] * (m - extra)


def _best_radii(n: int, widths: list[int], units: int) -> tuple[float, list[int]]:
    """Share ``units`` of ``radius + 1`` among the bands at the least cost.

    Returns the cost and the units per band (0: not searched).
    """
    costs = {
        (width, take): band_cost(n, width, take - 1) if take else 0.0
        for width in set(widths)
        for take in range(units + 1)
    }
    # best[u] = (cost, units per band so far) using exactly u units over the bands seen.
    best: list[tuple[float, list[int]] | None] = [(0.0, [])] + [None] * units
    for width in widths:
        new: list[tuple[float, list[int]] | None] = [None] * (units + 1)
        for used, entry in enumerate(best):
            if entry is None:
                continue
            for take in range(units - used + 1):
                cost = entry[0] + costs[width, take]
                slot = new[used + take]
                if slot is None or cost < slot[0]:
                    new[used + take] = (cost, [*entry[1], take])
        best = new
    final = best[units]
    assert final is not None  # every band may take any number of units
    return final


@cache
def plan_bands(n: int, max_distance: int) -> BandPlan | None:
    """The cheapest plan that finds every pair within ``max_distance`` among ``n`` hashes.

    Args:
        n: Number of hashes.
        max_distance: Largest Hamming distance to report (0 to 64).

    Returns:
        The plan, or ``None`` when the model finds a brute-force scan cheaper, or
        ``max_distance`` exceeds :data:`MAX_BANDED_DISTANCE`.
    """
    best_cost, best_plan = brute_force_cost(n), None
    if max_distance > MAX_BANDED_DISTANCE:
        return None
    units = max_distance + 1
    # More than r + 1 bands only narrows the searched ones, which adds candidates.
    for m in range(-(-HASH_BITS // MAX_TABLE_BITS), max(3, units) + 1):
        widths = _widths(m)
        cost, taken = _best_radii(n, widths, units)
        if cost < best_cost:
            shifts = np.cumsum([0, *widths[:-1]]).tolist()
            bands = tuple(
                Band(shift, width, take - 1)
                for shift, width, take in zip(shifts, widths, taken, strict=True)
                if take
            )
            best_cost, best_plan = cost, BandPlan(bands)
    return best_plan


def flip_masks(width: int, radius: int) -> np.ndarray:
    """Every ``width``-bit mask of at most ``radius`` set bits, as int64, 0 first."""
    masks = [0]
    for k in range(1, min(radius, width) + 1):
        masks.extend(sum(1 << b for b in bits) for bits in combinations(range(width), k))
    return np.asarray(masks, dtype=np.int64)
