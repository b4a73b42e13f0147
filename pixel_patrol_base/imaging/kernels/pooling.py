"""The kernel of ``raster-hash``: sums of a plane's finite pixels over a fixed block grid.

Belongs here: :func:`block_sums`, which adds the finite pixels of a rectangle of a tile
to the grid cells they fall in. Not here: what the block means become (the perceptual
hash and the signature, :mod:`pixel_patrol_base.imaging.perceptual`).

The grid is defined on the whole plane, so that tiles of any size add up to the same
sums: plane row ``r`` of a plane of ``rows`` rows falls in grid row ``⌊g·r / rows⌋``, and
likewise for columns. Integer work arrays are summed exactly (int64 within a tile, float64
across tiles: exact below 2⁵³); float ones skip the values that are not finite.
"""

from __future__ import annotations

import math

import numpy as np

from pixel_patrol_base.imaging.kernels.lazy import summing
from pixel_patrol_base.imaging.types import FloatArray, IntArray, Rect, WorkArray


@summing
def _grid_sums(
    work: WorkArray,
    rect: Rect,
    row_bins: IntArray,
    runs: IntArray,
    sums: FloatArray,
    counts: IntArray,
) -> None:
    y0, y1, x0, x1 = rect
    grid = sums.shape[0]
    total = np.zeros((grid, x1 - x0), np.int64)
    rows = np.zeros(grid, np.int64)
    for i in range(y1 - y0):
        row = work[y0 + i, x0:x1]
        into = total[row_bins[i]]
        rows[row_bins[i]] += 1
        for x in range(x1 - x0):  # vectorised
            into[x] += row[x]
    for g in range(grid):
        if rows[g]:
            for j in range(runs.shape[0]):  # start, stop, grid column
                sums[g, runs[j, 2]] += total[g, runs[j, 0] : runs[j, 1]].sum()
                counts[g, runs[j, 2]] += rows[g] * (runs[j, 1] - runs[j, 0])


@summing
def _finite_grid_sums(
    work: WorkArray,
    rect: Rect,
    row_bins: IntArray,
    runs: IntArray,
    sums: FloatArray,
    counts: IntArray,
) -> None:
    y0, y1, x0, x1 = rect
    grid = sums.shape[0]
    total = np.zeros((grid, x1 - x0))
    found = np.zeros((grid, x1 - x0), np.int64)
    for i in range(y1 - y0):
        row = work[y0 + i, x0:x1]
        into = total[row_bins[i]]
        seen = found[row_bins[i]]
        for x in range(x1 - x0):  # vectorised
            value = row[x]
            finite = math.isfinite(value)
            into[x] += value if finite else 0.0
            seen[x] += finite
    for g in range(grid):
        for j in range(runs.shape[0]):
            sums[g, runs[j, 2]] += total[g, runs[j, 0] : runs[j, 1]].sum()
            counts[g, runs[j, 2]] += found[g, runs[j, 0] : runs[j, 1]].sum()


def _bins(start: int, stop: int, extent: int, grid: int) -> IntArray:
    """Grid index of plane positions ``start .. stop − 1`` along an axis of ``extent``."""
    return np.arange(start, stop, dtype=np.int64) * grid // extent


def block_sums(
    work: WorkArray,
    rect: Rect,
    origin: tuple[int, int],
    plane_shape: tuple[int, int],
    sums: FloatArray,
    counts: IntArray,
) -> None:
    """Add the finite pixels of ``rect`` to the grid cells ``sums`` and ``counts``.

    The kernel adds each row to the row total of its grid row (one vectorised sweep),
    then the runs of columns of each grid column.

    Args:
        work: The work array (see :mod:`pixel_patrol_base.imaging.kernels`).
        rect: The positions of ``work`` to add (a tile's core).
        origin: The plane position (row, column) of ``work[0, 0]`` (a tile's offset).
        plane_shape: (rows, columns) of the whole plane, which fixes the grid.
        sums: ``g × g`` float64 sums of the finite values per cell, added to in place.
        counts: ``g × g`` int64 numbers of finite values per cell, added to in place.
    """
    grid = sums.shape[0]
    y0, y1, x0, x1 = rect
    if y1 <= y0 or x1 <= x0:
        return
    oy, ox = origin
    rows, cols = plane_shape
    row_bins = _bins(oy + y0, oy + y1, rows, grid)
    col_bins = _bins(ox + x0, ox + x1, cols, grid)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(col_bins)) + 1))
    stops = np.append(starts[1:], x1 - x0)
    runs = np.ascontiguousarray(np.stack([starts, stops, col_bins[starts]], axis=1))
    kernel = _finite_grid_sums if work.dtype.kind == "f" else _grid_sums
    kernel(work, rect, row_bins, runs, sums, counts)
