"""``raster-histogram``: a 256-bin histogram of each row over the row's own range.

Integers of up to 16 bits keep exact per-value counts for every leaf; a row's counts are
the sum of its leaves', re-binned over the row's range, so every row (level 0 included)
equals the direct histogram of its pixels. Other types (floats, wider integers) keep, per
leaf, 4096 fine bins over the leaf's range whose groups of 16 are exactly its 256 bins.
A row that merges leaves counts each pixel at the centre of its leaf's fine bin, at most
half a fine bin (1/32 of the leaf's bin width) from its value, and re-bins those centres
over the row's range: totals are exact, and a pixel can only land one bin off when its
value lies that close to a bin edge.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pixel_patrol_base.imaging.blocks import Leaf
from pixel_patrol_base.imaging.stats import IntArray, IntCounts, is_small_int, merge_counts
from pixel_patrol_base.imaging.tiles import Tile
from pixel_patrol_base.plugins.contracts import TileVisitor
from pixel_patrol_base.processors.manifest import HISTOGRAM_METADATA

METADATA = HISTOGRAM_METADATA
ID = METADATA.id
VERSION = METADATA.version
COLUMNS = METADATA.columns
BINS = 256
FINE = 16  # fine bins per bin for types without exact counts


@dataclass(frozen=True)
class ExactHistogram:
    """Exact per-value counts (integers of up to 16 bits)."""

    dtype: str
    counts: IntCounts | None


@dataclass(frozen=True)
class FineHistogram:
    """4096 fine bins over [edge_low, edge_high] plus the data range and non-finite count."""

    dtype: str
    nonfinite: int
    low: float = 0.0
    high: float = 0.0
    edge_low: float = 0.0
    edge_high: float = 0.0
    fine: IntArray | None = None


def bin_edges(low: float, high: float, dtype: np.dtype[Any]) -> tuple[float, float]:
    """(lower edge of bin 0, upper edge of bin 255) for data spanning [low, high]."""
    if dtype.kind in "biu" and high - low <= BINS - 1:
        if dtype.kind == "b":
            type_low, type_high = 0, 1
        else:
            info = np.iinfo(dtype)
            type_low, type_high = int(info.min), int(info.max)
        start = max(min(low, type_high - (BINS - 1)), type_low)
        return float(start), float(start + BINS)
    return low, high


def bin_index(values: Any, low: float, high: float, bins: int) -> Any:
    """floor((v − low) / ((high − low) / bins)) clipped to 0..bins−1 (0 when high = low)."""
    width = (high - low) / bins
    if not width > 0:
        return np.zeros(np.shape(values), np.intp)
    with np.errstate(all="ignore"):
        index = np.floor((values - low) / width)
    return np.clip(index, 0, bins - 1).astype(np.intp)


class HistogramProcessor:
    """The ``raster-histogram`` processor."""

    id = ID
    version = VERSION
    columns = COLUMNS
    halo = 0
    uses_overview = False

    def wants(self, leaf: Leaf) -> bool:
        """Every leaf matters."""
        return True

    def measure(self, leaf: Leaf) -> Generator[TileVisitor, None, ExactHistogram | FineHistogram]:
        """Exact counts in one pass, or range then fine bins in two passes."""
        dtype = leaf.image.dtype
        if is_small_int(dtype):
            parts: list[IntCounts] = []

            def count(tile: Tile) -> None:
                parts.append(tile.counts())

            yield count
            return ExactHistogram(dtype.str, merge_counts(parts))
        ranges: list[tuple[float, float]] = []
        nonfinite = 0

        def scan(tile: Tile) -> None:
            nonlocal nonfinite
            found = tile.finite_range()
            if found is not None:
                ranges.append(found)
            nonfinite += tile.core_data().size - tile.finite_core().size

        yield scan
        if not ranges:
            return FineHistogram(dtype.str, nonfinite)
        low, high = min(r[0] for r in ranges), max(r[1] for r in ranges)
        edge_low, edge_high = bin_edges(low, high, dtype)
        fine = np.zeros(BINS * FINE, np.int64)

        def fill(tile: Tile) -> None:
            index = bin_index(tile.finite_core(), edge_low, edge_high, BINS * FINE)
            fine[:] += np.bincount(index, minlength=BINS * FINE)

        yield fill
        return FineHistogram(dtype.str, nonfinite, low, high, edge_low, edge_high, fine)

    def merge(
        self, states: Sequence[ExactHistogram | FineHistogram]
    ) -> ExactHistogram | FineHistogram:
        """Exact sums of counts, or fine bins re-binned by their centres."""
        if len(states) == 1:
            return states[0]
        exact = [s for s in states if isinstance(s, ExactHistogram)]
        if exact:
            return ExactHistogram(exact[0].dtype, merge_counts(s.counts for s in exact if s.counts))
        fines = [s for s in states if isinstance(s, FineHistogram)]
        dtype = np.dtype(fines[0].dtype)
        nonfinite = sum(s.nonfinite for s in fines)
        filled = [s for s in fines if s.fine is not None]
        if not filled:
            return FineHistogram(dtype.str, nonfinite)
        low, high = min(s.low for s in filled), max(s.high for s in filled)
        edge_low, edge_high = bin_edges(low, high, dtype)
        total = np.zeros(BINS * FINE, np.float64)
        for s in filled:
            assert s.fine is not None
            used = np.flatnonzero(s.fine)
            width = (s.edge_high - s.edge_low) / (BINS * FINE)
            centres = s.edge_low + (used + 0.5) * width
            index = bin_index(centres, edge_low, edge_high, BINS * FINE)
            total += np.bincount(index, weights=s.fine[used], minlength=BINS * FINE)
        fine = total.astype(np.int64)
        return FineHistogram(dtype.str, nonfinite, low, high, edge_low, edge_high, fine)

    def finalize(self, state: ExactHistogram | FineHistogram) -> dict[str, Any]:
        """The four columns."""
        if isinstance(state, ExactHistogram):
            return _finalize_exact(state)
        if state.fine is None:
            return {"histogram_nan_count": state.nonfinite}
        coarse = state.fine.reshape(BINS, FINE).sum(axis=1)
        return {
            "histogram_counts": coarse.tolist(),
            "histogram_min": state.edge_low,
            "histogram_max": state.edge_high,
            "histogram_nan_count": state.nonfinite,
        }


def _finalize_exact(state: ExactHistogram) -> dict[str, Any]:
    if state.counts is None:
        return {"histogram_nan_count": 0}
    counts = state.counts.trimmed()
    low = float(counts.offset)
    high = float(counts.offset + counts.counts.size - 1)
    edge_low, edge_high = bin_edges(low, high, np.dtype(state.dtype))
    index = bin_index(counts.values(), edge_low, edge_high, BINS)
    # The bin never decreases with the value, so each bin holds a run of values and its
    # count is a difference of cumulative counts: cheaper than a weighted bincount.
    ends = np.searchsorted(index, np.arange(1, BINS + 1))
    cumulative = np.concatenate(([0], np.cumsum(counts.counts)))
    binned = np.diff(cumulative[ends], prepend=0)
    return {
        "histogram_counts": binned.tolist(),
        "histogram_min": edge_low,
        "histogram_max": edge_high,
        "histogram_nan_count": 0,
    }


PROCESSOR = HistogramProcessor()
