"""Mergeable statistics that the processors build from pixel blocks.

Belongs here: population moments with Chan's merge, exact per-value counts of small
integer images, and percentiles that match :func:`numpy.percentile` (linear method).
Order statistics of float values live in :mod:`pixel_patrol_base.imaging.order`.
Not here: anything about images, tiles or columns.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pixel_patrol_base.imaging.kernels.selection import count_values
from pixel_patrol_base.imaging.types import FloatArray as FloatArray
from pixel_patrol_base.imaging.types import IntArray as IntArray


@dataclass(frozen=True)
class Moments:
    """Count, mean and sum of squared deviations (M2) of a set of values."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0

    @classmethod
    def of(cls, values: FloatArray) -> Moments:
        """Two-pass moments of finite float64 values (any shape)."""
        n = int(values.size)
        if n == 0:
            return cls()
        flat = values.ravel()
        mean = float(flat.sum()) / n
        dev = flat - mean
        return cls(n, mean, float(np.einsum("i,i->", dev, dev)))

    @classmethod
    def where(cls, values: FloatArray, mask: npt.NDArray[np.bool_]) -> Moments:
        """Moments of ``values[mask]`` without gathering them."""
        n = int(np.count_nonzero(mask))
        if n == 0:
            return cls()
        mean = float(np.sum(values, where=mask)) / n
        dev = np.where(mask, values - mean, 0.0).ravel()
        return cls(n, mean, float(np.einsum("i,i->", dev, dev)))

    @property
    def var(self) -> float | None:
        """Population variance (ddof 0), ``None`` when empty."""
        return self.m2 / self.n if self.n else None

    @property
    def std(self) -> float | None:
        """Population standard deviation, ``None`` when empty."""
        var = self.var
        return math.sqrt(max(var, 0.0)) if var is not None else None


def merge_moments(items: Iterable[Moments]) -> Moments:
    """Pooled moments of several disjoint sets (Chan et al.'s parallel formula)."""
    parts = [m for m in items if m.n]
    if not parts:
        return Moments()
    if len(parts) == 1:
        return parts[0]
    n = sum(m.n for m in parts)
    mean = sum(m.n * m.mean for m in parts) / n
    m2 = sum(m.m2 + m.n * (m.mean - mean) ** 2 for m in parts)
    return Moments(n, mean, m2)


def is_small_int(dtype: np.dtype[np.generic]) -> bool:
    """Whether exact per-value counts are used for this dtype (integers up to 16 bits)."""
    return dtype.kind in "biu" and dtype.itemsize <= 2


@dataclass(frozen=True)
class IntCounts:
    """Exact per-value counts: ``counts[i]`` pixels equal ``offset + i``."""

    offset: int
    counts: IntArray

    @classmethod
    def of(cls, data: npt.NDArray[np.generic]) -> IntCounts:
        """Count every value of an integer array of at most 16 bits."""
        flat = np.ascontiguousarray(data).ravel()
        if not flat.dtype.isnative:
            flat = flat.astype(flat.dtype.newbyteorder("="))
        shift = 0
        if flat.dtype.kind == "b":
            flat = flat.view(np.uint8)
        elif flat.dtype.kind == "i":
            bits = 8 * flat.dtype.itemsize
            unsigned = np.uint8 if bits == 8 else np.uint16
            flat = np.bitwise_xor(flat.view(unsigned), np.array(1 << (bits - 1), unsigned))
            shift = -(1 << (bits - 1))
        if flat.size == 0:
            return cls(0, np.zeros(0, np.int64))
        low = int(flat.min())
        counts = count_values(flat, low, int(flat.max()))
        return cls(low + shift, counts)

    @property
    def n(self) -> int:
        """Number of values counted."""
        return int(self.counts.sum())

    def trimmed(self) -> IntCounts:
        """The same counts without leading and trailing zeros."""
        if self.counts.size and self.counts[0] and self.counts[-1]:
            return self  # as :meth:`of` makes them, and as most merges leave them
        nonzero = np.flatnonzero(self.counts)
        if nonzero.size == 0:
            return IntCounts(0, np.zeros(0, np.int64))
        first, last = int(nonzero[0]), int(nonzero[-1])
        return IntCounts(self.offset + first, self.counts[first : last + 1])

    def values(self) -> FloatArray:
        """The value each count belongs to, as float64."""
        return self.offset + np.arange(self.counts.size, dtype=np.float64)

    def moments(self) -> Moments:
        """Moments of the counted values."""
        n = self.n
        if n == 0:
            return Moments()
        weights = self.counts.astype(np.float64)
        values = self.values()
        mean = float(np.einsum("i,i->", weights, values)) / n
        dev = values - mean
        return Moments(n, mean, float(np.einsum("i,i->", weights, dev * dev)))

    def order_stats(self, ranks: Sequence[int]) -> list[float]:
        """The values at the given 0-based positions of the sorted pixels."""
        cum = np.cumsum(self.counts)
        pos = np.searchsorted(cum, np.asarray(ranks, dtype=np.int64), side="right")
        return [float(self.offset + int(p)) for p in pos]

    def percentiles(self, qs: Sequence[float]) -> list[float] | None:
        """Percentiles as :func:`numpy.percentile` (linear) gives them, or ``None``."""
        n = self.n
        if n == 0:
            return None
        plans = [percentile_plan(n, q) for q in qs]
        ranks = sorted({r for lo, hi, _ in plans for r in (lo, hi)})
        found = dict(zip(ranks, self.order_stats(ranks), strict=True))
        return [lerp(found[lo], found[hi], gamma) for lo, hi, gamma in plans]


def merge_counts(items: Iterable[IntCounts]) -> IntCounts | None:
    """Sum of several exact counts (over the union of their value ranges)."""
    parts = [c.trimmed() for c in items]
    parts = [c for c in parts if c.counts.size]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    low = min(c.offset for c in parts)
    high = max(c.offset + c.counts.size for c in parts)
    total = np.zeros(high - low, np.int64)
    for c in parts:
        total[c.offset - low : c.offset - low + c.counts.size] += c.counts
    return IntCounts(low, total)


def percentile_plan(n: int, q: float) -> tuple[int, int, float]:
    """Ranks and weight that :func:`numpy.percentile` (linear) interpolates between."""
    virtual = (n - 1) * (q / 100)
    if virtual >= n - 1:
        return n - 1, n - 1, 0.0
    lower = math.floor(virtual)
    return lower, lower + 1, virtual - lower


def lerp(a: float, b: float, t: float) -> float:
    """Linear interpolation written exactly as numpy's quantile code writes it."""
    diff = b - a
    if t >= 0.5:
        return b - diff * (1 - t)
    return a + diff * t
