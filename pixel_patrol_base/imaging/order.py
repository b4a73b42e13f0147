"""Exact order statistics (and so exact percentiles) of float values.

Belongs here: :func:`select` for values that are all in memory, and
:class:`OrderStatistics` for values that arrive in pieces (the tiles of a plane too large
to hold), which needs several passes over them. Both find the very values
:func:`numpy.partition` would, so percentiles equal :func:`numpy.percentile` (linear).

Both first bracket each wanted rank with a sorted sample of the values (taken with a
fixed stride), so that only the few values inside the bracket are gathered and
partitioned; in memory, a compiled kernel gathers them and :func:`select` brackets again
among them while they are many. Ties at a bracket's ends, which a sample cannot split,
are counted there instead of gathered. A bracket that misses (rare) falls back to a full
partition, or, in pieces, to narrowing a 4096-bin histogram pass after pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from pixel_patrol_base.imaging.kernels import split
from pixel_patrol_base.imaging.stats import lerp, percentile_plan
from pixel_patrol_base.imaging.types import FloatArray, IntArray

SAMPLE = 1 << 16
"""Wanted size of the sample that brackets each rank, for values in pieces."""
SELECT_SAMPLE = 1 << 14
"""The largest sample for :func:`select`, which takes every 16th value of fewer values.
Smaller than :data:`SAMPLE`: partitioning a sample costs more than counting and
gathering the values inside its bracket (about 3.6·n/√sample of them)."""
PARTITION_MAX = 1 << 12
""":func:`select` partitions up to this many values directly."""
MAX_DEPTH = 8
"""Rounds of bracketing before the values left are partitioned whatever their number."""
_BINS = 4096
_GATHER_CAP = 1 << 16
_TINY = 1e-300  # below this width, a bin scale would overflow: gather instead


def _span(m: int, fraction: float) -> tuple[int, int]:
    """Positions in a sorted sample of ``m`` values that enclose the ``fraction``
    quantile of all values with near certainty (either may lie outside the sample)."""
    centre = fraction * (m - 1)
    margin = 6.0 * math.sqrt(max(fraction * (1 - fraction), 1.0 / m) * m) + 2
    return math.floor(centre - margin), math.ceil(centre + margin)


def _bracket(
    sample: FloatArray, fraction: float, extent: tuple[float, float]
) -> tuple[float, float]:
    """Values that enclose the ``fraction`` quantile with near certainty.

    Args:
        sample: Unsorted sample of the values.
        fraction: Position of the wanted value, 0 (min) to 1 (max).
        extent: (min, max) of all values, used where the bracket reaches the sample's ends.
    """
    m = sample.size
    lo, hi = _span(m, fraction)
    inner = [i for i in (lo, hi) if 0 <= i < m]
    part = np.partition(sample, inner) if inner else sample
    low = float(part[lo]) if lo >= 0 else extent[0]
    high = float(part[hi]) if hi < m else extent[1]
    return low, high


def select(values: FloatArray, ranks: Sequence[int]) -> dict[int, float]:
    """The values at the given 0-based positions of the sorted finite ``values`` (1D or 2D)."""
    return _select(np.ravel(values), sorted(set(ranks)))


def _select(flat: FloatArray, wanted: list[int], depth: int = 0) -> dict[int, float]:
    """:func:`select` of 1D C-contiguous values, ``wanted`` sorted: a bracket from a
    sample, then the same again on the values gathered from it, until few enough to
    partition.

    Ties (a JPEG's Sobel magnitudes, nine tenths of them 0) fill a bracket far beyond
    the share of the sample it spans: the values equal to its ends are then counted
    rather than gathered (see :func:`split`), a rank among them is that end, and only
    the values strictly inside are gathered, if a rank lies there. ``np.partition``,
    the last step, is slow on many equal values too."""
    n = flat.size
    if n <= PARTITION_MAX or depth > MAX_DEPTH:
        part = np.partition(flat, wanted)
        return {r: float(part[r]) for r in wanted}
    sample = flat[:: max(16, n // SELECT_SAMPLE)]
    found: dict[int, float] = {}
    for rank in wanted:
        if rank in found:
            continue
        group = [r for r in wanted if r not in found and abs(r - rank) <= 1]
        fraction = rank / (n - 1)
        lo, hi = _bracket(sample, fraction, (-math.inf, math.inf))
        first, last = _span(sample.size, fraction)
        cut = split(flat, lo, hi, (group[0], group[-1]), (last - first) * n // sample.size)
        start = cut.below + cut.at_low
        end = start + cut.inside
        if not all(cut.below <= r < end + cut.at_high for r in group):  # the sample misled
            part = np.partition(flat, group)
            found.update((r, float(part[r])) for r in group)
            continue
        found.update((r, lo) for r in group if r < start)
        found.update((r, hi) for r in group if r >= end)
        local = [r - start for r in group if start <= r < end]
        if local:
            chosen = _select(cut.values, local, depth + 1)
            found.update((k + start, chosen[k]) for k in local)
    return found


def percentiles(values: FloatArray, qs: Sequence[float]) -> list[float] | None:
    """:func:`numpy.percentile` (linear) of in-memory finite values, ``None`` when empty."""
    n = values.size
    if n == 0:
        return None
    plans = [percentile_plan(n, q) for q in qs]
    found = select(values, [r for lo, hi, _ in plans for r in (lo, hi)])
    return [lerp(found[lo], found[hi], gamma) for lo, hi, gamma in plans]


def _bin_index(values: FloatArray, low: float, scale: float) -> npt.NDArray[np.intp]:
    index = np.floor((values - low) * scale).astype(np.intp)
    return np.clip(index, 0, _BINS - 1, out=index)


@dataclass
class _Target:
    """Where one wanted rank is: among the values inside ``interval`` and every ``chain`` bin."""

    rank: int
    count: int
    interval: tuple[float, float] | None = None
    bracket: tuple[float, float] | None = None
    below: int = 0
    chain: list[tuple[float, float, int]] = field(default_factory=list)
    bounds: tuple[float, float] | None = None
    value: float | None = None
    hist: IntArray | None = None
    low: float = math.inf
    high: float = -math.inf
    gathered: list[FloatArray] = field(default_factory=list)

    def select(self, values: FloatArray) -> FloatArray:
        if self.interval is not None:
            lo, hi = self.interval
            values = values[(values >= lo) & (values <= hi)]
        for low, scale, index in self.chain:
            values = values[_bin_index(values, low, scale) == index]
        return values

    def action(self) -> str:
        if self.value is not None:
            return "done"
        if self.bracket is not None:
            return "bracket"
        if self.bounds is not None and self.bounds[0] == self.bounds[1]:
            self.value = self.bounds[0]
            return "done"
        if self.count <= _GATHER_CAP or (
            self.bounds is not None
            and not _BINS * _TINY <= self.bounds[1] - self.bounds[0] < math.inf
        ):
            return "gather"
        return "histogram" if self.bounds is not None else "bounds"

    def feed(self, values: FloatArray) -> None:
        action = self.action()
        if action == "done":
            return
        if action == "bracket":
            assert self.bracket is not None and self.hist is not None
            lo, hi = self.bracket
            self.below += int(np.count_nonzero(values < lo))
            values = values[(values >= lo) & (values <= hi)]
            self.count += values.size
            if hi > lo and values.size:
                self.hist += np.bincount(_bin_index(values, lo, _BINS / (hi - lo)), minlength=_BINS)
            return
        inside = self.select(values)
        if inside.size == 0:
            return
        if action == "gather":
            self.gathered.append(inside.copy())
        elif action == "bounds":
            self.low = min(self.low, float(inside.min()))
            self.high = max(self.high, float(inside.max()))
        else:
            assert self.bounds is not None and self.hist is not None
            low, high = self.bounds
            self.hist += np.bincount(_bin_index(inside, low, _BINS / (high - low)), minlength=_BINS)

    def close(self, n: int, extent: tuple[float, float]) -> None:
        """End of a pass: narrow the window down to the bin holding the rank."""
        if self.value is not None:
            self.hist = None
            return
        if self.bracket is not None:
            lo, hi = self.bracket
            self.bracket = None
            if not self.below <= self.rank < self.below + self.count:  # the sample misled
                self.count, self.bounds, self.hist = n, extent, None
                return
            self.rank -= self.below
            self.interval = (lo, hi)
            if hi == lo:
                self.value, self.hist = lo, None
                return
            self.bounds = (lo, hi)
        if self.gathered:
            pool = np.concatenate(self.gathered)
            self.value = float(np.partition(pool, self.rank)[self.rank])
            self.gathered = []
        elif self.hist is not None and self.bounds is not None:
            low, high = self.bounds
            cum = np.cumsum(self.hist)
            index = int(np.searchsorted(cum, self.rank, side="right"))
            self.rank -= int(cum[index - 1]) if index else 0
            self.chain.append((low, _BINS / (high - low), index))
            self.count = int(self.hist[index])
            self.bounds, self.hist = None, None
            self.low, self.high = math.inf, -math.inf
        elif self.bounds is None and self.low <= self.high:
            self.bounds = (self.low, self.high)

    def prepare(self) -> None:
        """Start of a pass: make room for a histogram when one is due."""
        if self.action() in ("bracket", "histogram"):
            self.hist = np.zeros(_BINS, np.int64)


class OrderStatistics:
    """Exact percentiles of finite values seen in pieces, over as many passes as needed.

    Call :meth:`feed` with every piece, then :meth:`end_pass`; repeat while :attr:`done`
    is false. The first pass counts the values and keeps a strided sample; the second
    counts the values below each rank's bracket and bins those inside it; the third
    gathers the few values of the bin that holds the rank. Values are assigned to bins by
    the same arithmetic in every pass, so the result is exact.
    """

    def __init__(self, percentiles: Sequence[float], expected: int = 0) -> None:
        """Prepare for the given percentiles.

        Args:
            percentiles: Wanted percentiles (0–100).
            expected: About how many values will come (sets the sampling stride).
        """
        self._qs = list(percentiles)
        self._stride = max(1, expected // SAMPLE)
        self._n = 0
        self._low, self._high = math.inf, -math.inf
        self._sample: list[FloatArray] = []
        self._targets: dict[int, _Target] | None = None

    @property
    def n(self) -> int:
        """Number of values seen in the first pass."""
        return self._n

    @property
    def done(self) -> bool:
        """Whether every wanted percentile is known (after at least one pass)."""
        targets = self._targets
        return targets is not None and all(t.action() == "done" for t in targets.values())

    def feed(self, values: FloatArray) -> None:
        """Take one piece of the values (1D, finite) in the current pass."""
        if values.size == 0:
            return
        if self._targets is None:
            self._n += values.size
            self._low = min(self._low, float(values.min()))
            self._high = max(self._high, float(values.max()))
            self._sample.append(values[:: self._stride].copy())
            return
        for target in self._targets.values():
            target.feed(values)

    def end_pass(self) -> None:
        """Close the current pass and plan the next one."""
        if self._targets is None:
            self._targets = self._plan()
        else:
            for target in self._targets.values():
                target.close(self._n, (self._low, self._high))
        for target in self._targets.values():
            target.prepare()

    def _plan(self) -> dict[int, _Target]:
        if self._n == 0:
            return {}
        ranks = sorted({r for q in self._qs for r in percentile_plan(self._n, q)[:2]})
        extent = (self._low, self._high)
        if self._n <= _GATHER_CAP:
            return {r: _Target(r, self._n, bounds=extent) for r in ranks}
        sample = np.concatenate(self._sample)
        self._sample = []
        targets = {}
        for r in ranks:
            if r in (0, self._n - 1):
                targets[r] = _Target(r, 0, value=extent[0] if r == 0 else extent[1])
            else:
                bracket = _bracket(sample, r / (self._n - 1), extent)
                targets[r] = _Target(r, 0, bracket=bracket, bounds=extent)
        return targets

    def percentiles(self) -> list[float] | None:
        """The wanted percentiles (numpy's linear method), or ``None`` without values."""
        if self._n == 0 or self._targets is None:
            return None
        out = []
        for q in self._qs:
            lo, hi, gamma = percentile_plan(self._n, q)
            a, b = self._targets[lo].value, self._targets[hi].value
            assert a is not None and b is not None
            out.append(lerp(a, b, gamma))
        return out

    def lower(self, q: float) -> float | None:
        """The order statistic at or just below percentile ``q`` (``None`` without values)."""
        if self._n == 0 or self._targets is None:
            return None
        return self._targets[percentile_plan(self._n, q)[0]].value
