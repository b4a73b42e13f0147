"""``raster-basic``: intensity range, mean and spread, and the share of non-finite pixels.

Integers of up to 16 bits are summarised from exact per-value counts (one pass, shared
with ``raster-histogram`` through the tile cache); other types from their finite values
in float64. Slices merge exactly: min of mins, max of maxes, pixel-weighted means and
the pooled variance (Chan's parallel formula).
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

from pixel_patrol_base.imaging.blocks import Leaf
from pixel_patrol_base.imaging.stats import Moments, is_small_int, merge_moments
from pixel_patrol_base.imaging.tiles import Tile
from pixel_patrol_base.plugins.contracts import TileVisitor
from pixel_patrol_base.processors.manifest import BASIC_METADATA

METADATA = BASIC_METADATA
ID = METADATA.id
VERSION = METADATA.version
COLUMNS = METADATA.columns


@dataclass(frozen=True)
class BasicState:
    """Partial result of a set of pixels: their count, finite moments and range."""

    pixels: int
    moments: Moments
    low: float = math.inf
    high: float = -math.inf


def _tile_state(tile: Tile) -> BasicState:
    pixels = tile.core_data().size
    if is_small_int(tile.data.dtype):
        counts = tile.counts()
        moments = counts.moments()
    else:
        moments = Moments.of(tile.finite_core())
    found = tile.finite_range()
    if found is None:
        return BasicState(pixels, moments)
    return BasicState(pixels, moments, found[0], found[1])


class BasicProcessor:
    """The ``raster-basic`` processor."""

    id = ID
    version = VERSION
    columns = COLUMNS
    halo = 0
    uses_overview = False

    def wants(self, leaf: Leaf) -> bool:
        """Every leaf matters."""
        return True

    def measure(self, leaf: Leaf) -> Generator[TileVisitor, None, BasicState]:
        """One pass: the state of each tile's core, merged."""
        parts: list[BasicState] = []

        def visit(tile: Tile) -> None:
            parts.append(_tile_state(tile))

        yield visit
        return self.merge(parts)

    def merge(self, states: Sequence[BasicState]) -> BasicState:
        """Exact union of disjoint pixel sets."""
        if len(states) == 1:
            return states[0]
        return BasicState(
            pixels=sum(s.pixels for s in states),
            moments=merge_moments(s.moments for s in states),
            low=min((s.low for s in states), default=math.inf),
            high=max((s.high for s in states), default=-math.inf),
        )

    def finalize(self, state: BasicState) -> dict[str, Any]:
        """The six columns."""
        m = state.moments
        finite = m.n > 0
        return {
            "min_intensity": state.low if finite else None,
            "max_intensity": state.high if finite else None,
            "mean_intensity": m.mean if finite else None,
            "std_intensity": m.std,
            "finite_pixel_count": m.n,
            "nan_fraction": (state.pixels - m.n) / state.pixels if state.pixels else None,
        }


PROCESSOR = BasicProcessor()
