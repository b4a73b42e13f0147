"""``raster-compression``: blocking and ringing artefacts of lossy compression, per 2D plane.

Both metrics are computed per (Y, X) plane in float64 and aggregated upward as the mean
weighted by the plane's pixel count. Planes smaller than 3×3 give nulls. A plane cut
into tiles gives the same values as the whole plane: tiles carry a two-pixel halo, and
the edge threshold (a percentile of the whole plane) is found exactly over extra passes.
"""

from __future__ import annotations

import numpy as np

from pixel_patrol_base.imaging.kernels import Sums, jump_sums, ringing_sums, sobel_field
from pixel_patrol_base.imaging.order import OrderStatistics, select
from pixel_patrol_base.imaging.stats import FloatArray, percentile_plan
from pixel_patrol_base.imaging.stencil import add_sums, moments
from pixel_patrol_base.imaging.tiles import Rect, Tile
from pixel_patrol_base.processors._planes import Metrics, PlaneMeansProcessor
from pixel_patrol_base.processors.manifest import COMPRESSION_METADATA

METADATA = COMPRESSION_METADATA
ID = METADATA.id
VERSION = METADATA.version
COLUMNS = METADATA.columns
NAMES = tuple(c.name for c in COLUMNS)
BLOCK = 8
EDGE_PERCENTILE = 90.0


def _jumps(tile: Tile) -> tuple[float, int, float, int]:
    """(Σ, n) of |jumps| across block boundaries, then of the others, from the tile's core."""
    y0, y1, x0, x1 = tile.core
    oy, ox = tile.offset
    gy, gx = tile.origin
    rows, cols = tile.plane_shape
    limit = (min(y1, rows - 1 - oy), min(x1, cols - 1 - ox))  # p + 1 inside the plane
    first = (y0 + (BLOCK - 1 - gy - y0) % BLOCK, x0 + (BLOCK - 1 - gx - x0) % BLOCK)
    return jump_sums(tile.work(), tile.core, limit, first, BLOCK)


class _PlaneCompression:
    """Compression metrics of one plane, from its tiles."""

    def __init__(self, tile: Tile) -> None:
        rows, cols = tile.plane_shape
        self.weight = rows * cols
        self.small = rows < 3 or cols < 3
        self.jumps = [0.0, 0.0, 0.0, 0.0]
        self.selector = OrderStatistics([EDGE_PERCENTILE], expected=self.weight)
        self.threshold: float | None = None
        self.resolved = False
        self.ringing_done = False
        self.near: Sums = (0, 0.0, 0.0)
        self.far: Sums = (0, 0.0, 0.0)
        self.passes = 0

    def visit(self, tile: Tile) -> None:
        if self.small:
            return
        if self.passes == 0:
            for slot, value in enumerate(_jumps(tile)):
                self.jumps[slot] += value
        if not self.resolved:
            edges = _edge_values(tile)
            if tile.whole:
                if edges.size:
                    rank = percentile_plan(edges.size, EDGE_PERCENTILE)[0]
                    self.threshold = select(edges, [rank])[rank]
                self.resolved = True
            else:
                self.selector.feed(edges)
        if self.resolved and not self.ringing_done and self.threshold is not None:
            field, origin = _sobel(tile)
            near, far = ringing_sums(tile.work(), tile.interior(1), field, origin, self.threshold)
            self.near = add_sums(self.near, near)
            self.far = add_sums(self.far, far)

    def end_pass(self) -> bool:
        if self.small:
            return False
        self.passes += 1
        if self.resolved:
            self.ringing_done = True
            return False
        self.selector.end_pass()
        if not self.selector.done:
            return True
        self.threshold = self.selector.lower(EDGE_PERCENTILE)
        self.resolved = True
        return self.threshold is not None

    def result(self) -> Metrics:
        if self.small:
            return dict.fromkeys(NAMES)
        edge_sum, edge_n, other_sum, other_n = self.jumps
        blocking = None
        if edge_n and other_n and other_sum > 0:
            blocking = (edge_sum / edge_n) / (other_sum / other_n)
        near, far = moments(self.near, scale=9.0).var, moments(self.far, scale=9.0).var
        ringing = near / far if near is not None and far else None
        return {"blocking_index": blocking, "ringing_index": ringing}


def _sobel(tile: Tile) -> tuple[FloatArray, tuple[int, int]]:
    """Squared Sobel magnitudes of the tile's interior and its neighbours (those not on
    the border of the tile's data), and the position of the field's first one."""

    def compute() -> tuple[FloatArray, tuple[int, int]]:
        y0, y1, x0, x1 = tile.interior(1)
        rows, cols = tile.data.shape
        grown: Rect = (max(1, y0 - 1), min(rows - 1, y1 + 1), max(1, x0 - 1), min(cols - 1, x1 + 1))
        return sobel_field(tile.work(), grown), (grown[0], grown[2])

    return tile.cached("sobel_field", compute)


def _edge_values(tile: Tile) -> FloatArray:
    """Finite squared Sobel magnitudes at the tile's interior core positions (1D)."""
    field, (fy, fx) = _sobel(tile)
    y0, y1, x0, x1 = tile.interior(1)
    values = field[y0 - fy : y1 - fy, x0 - fx : x1 - fx]
    if tile.filters_finite():
        return values.ravel()
    return values[np.isfinite(values)]


PROCESSOR = PlaneMeansProcessor(ID, VERSION, COLUMNS, halo=2, make_job=_PlaneCompression)
