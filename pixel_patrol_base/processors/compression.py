"""``raster-compression``: blocking and ringing artefacts of lossy compression, per 2D plane.

Both metrics are computed per (Y, X) plane in float64 and aggregated upward as the mean
weighted by the plane's pixel count. Planes smaller than 3×3 give nulls. A plane cut
into tiles gives the same values as the whole plane: tiles carry a two-pixel halo, and
the edge threshold (a percentile of the whole plane) is found exactly over extra passes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pixel_patrol_base.catalog import Aggregation, Column, register
from pixel_patrol_base.imaging.order import OrderStatistics, select
from pixel_patrol_base.imaging.stats import FloatArray, percentile_plan
from pixel_patrol_base.imaging.stencil import (
    Sums,
    add_sums,
    box_sum,
    dilate,
    moments,
    rect_sums,
    residual9,
    row_chunks,
    sobel_squared,
)
from pixel_patrol_base.imaging.tiles import Tile
from pixel_patrol_base.processors._planes import Metrics, PlaneMeansProcessor

ID = "raster-compression"
VERSION = "1.0.0"
BLOCK = 8
EDGE_PERCENTILE = 90.0

_PER_PLANE = (
    " Computed per 2D plane (null for planes under 3×3) and aggregated as the mean "
    "weighted by the plane's pixel count."
)
COLUMNS: tuple[Column, ...] = (
    Column(
        "blocking_index",
        "float64",
        "Mean absolute jump |I(p) − I(q)| between horizontally or vertically adjacent "
        "pixels p, q that lie on either side of an 8-pixel block boundary (q's column or "
        "row, counted from the image origin, a multiple of 8), divided by the mean "
        "absolute jump of all other adjacent pairs; pairs with a non-finite pixel are "
        "left out; null without both kinds of pair or when the divisor is 0. 1 means no "
        "blocking." + _PER_PLANE,
        producer=ID,
        aggregation=Aggregation.MEAN,
    ),
    Column(
        "ringing_index",
        "float64",
        "Variance of the 3×3 high-pass residual R = I − μ₃ₓ₃ near strong edges divided by "
        "its variance elsewhere, over the valid interior (whole 3×3 neighbourhood finite). "
        "Strong edges: Sobel magnitude sqrt(Gx² + Gy²) above its 90th percentile (numpy "
        "linear method) over the plane's interior; near: within the 3×3 neighbourhood of "
        "a strong edge. Null when either set is empty or the divisor is 0." + _PER_PLANE,
        producer=ID,
        aggregation=Aggregation.MEAN,
    ),
)
NAMES = tuple(c.name for c in COLUMNS)
register(COLUMNS)


def _jumps(tile: Tile) -> list[float]:
    """[sum, count] of |jumps| across block boundaries, then [sum, count] of the others."""
    work = tile.work()
    rows, cols = work.shape
    y0, y1, x0, x1 = tile.core
    oy, ox = tile.offset
    gy, gx = tile.origin
    plane_rows, plane_cols = tile.plane_shape
    finite = tile.filters_finite()
    last_x = min(x1, plane_cols - 1 - ox)  # pairs (x, x + 1) need x + 1 inside the plane
    last_y = min(y1, plane_rows - 1 - oy)
    totals = [0.0, 0.0, 0.0, 0.0]
    first_x = x0 + (BLOCK - 1 - gx - x0) % BLOCK
    for start, stop, _ in row_chunks((y0, y1, 0, cols), work.shape, halo=0):
        part = work[start : min(stop + 1, rows)]
        flat = part.ravel()
        across = np.empty(flat.size, flat.dtype)
        np.subtract(flat[1:], flat[:-1], out=across[:-1])
        across[-1] = 0
        np.abs(across, out=across)
        grid = across.reshape(part.shape)[: stop - start, x0:last_x]
        _add_jumps(totals, grid, first_x - x0, True, finite)
        bottom = min(stop, last_y)
        if bottom > start:
            down = np.abs(flat[cols:] - flat[:-cols]).reshape(-1, cols)
            first = (BLOCK - 1 - gy - start) % BLOCK
            _add_jumps(totals, down[: bottom - start, x0:x1], first, False, finite)
    return totals


def _add_jumps(totals: list[float], grid: Any, first: int, along_x: bool, finite: bool) -> None:
    if grid.size == 0:
        return
    valid = None if finite else np.isfinite(grid)
    if valid is not None:
        grid = np.where(valid, grid, 0.0)
    edge = grid[:, first::BLOCK] if along_x else grid[first::BLOCK, :]
    edge_sum = float(edge.sum())
    if valid is None:
        edge_n, all_n = edge.size, grid.size
    else:
        chosen = valid[:, first::BLOCK] if along_x else valid[first::BLOCK, :]
        edge_n, all_n = int(np.count_nonzero(chosen)), int(np.count_nonzero(valid))
    totals[0] += edge_sum
    totals[1] += edge_n
    totals[2] += float(grid.sum()) - edge_sum
    totals[3] += all_n - edge_n


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
                self.selector.feed(edges.ravel())
        if self.resolved and not self.ringing_done:
            self._ringing(tile)

    def _ringing(self, tile: Tile) -> None:
        if self.threshold is None:
            return
        work = tile.work()
        squared = _sobel(tile)
        finite = tile.filters_finite()
        for start, stop, rect in row_chunks(tile.interior(1), work.shape, halo=1):
            near = dilate(squared[start:stop] > self.threshold)
            part = work[start:stop]
            residual = residual9(part, box_sum(part))
            total = rect_sums(residual, rect, finite=finite)
            close = rect_sums(residual, rect, finite=finite, mask=near)
            self.near = add_sums(self.near, close)
            self.far = add_sums(
                self.far, (total[0] - close[0], total[1] - close[1], total[2] - close[2])
            )

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


def _sobel(tile: Tile) -> FloatArray:
    """Squared Sobel magnitude of the whole tile (0 on its outermost rows and columns)."""

    def compute() -> FloatArray:
        work = tile.work()
        rows, cols = work.shape
        out = np.zeros((rows, cols))
        for start, stop, (top, bottom, _, _) in row_chunks((1, rows - 1, 0, cols), work.shape, 1):
            out[start + top : start + bottom] = sobel_squared(work[start:stop])[top:bottom]
        if not tile.all_finite():
            # Only the valid interior counts: a position with any non-finite pixel in its
            # 3×3 neighbourhood is NaN, so it is neither a strong edge nor in the
            # percentile (the Sobel kernels give the centre column or row weight 0, so
            # the sums alone would not always say so).
            invalid = box_sum((~np.isfinite(work)).astype(np.int32)) > 0
            out[invalid] = np.nan
        return out

    return tile.cached("sobel_squared", compute)


def _edge_values(tile: Tile) -> FloatArray:
    """Finite squared Sobel magnitudes at the tile's interior core positions."""
    y0, y1, x0, x1 = tile.interior(1)
    values = _sobel(tile)[y0:y1, x0:x1]
    if tile.filters_finite():
        return values
    return values[np.isfinite(values)]


PROCESSOR = PlaneMeansProcessor(ID, VERSION, COLUMNS, halo=2, make_job=_PlaneCompression)
