"""The kernels of ``raster-qc``: the Immerkaer noise residual of every valid position.

Belongs here: the compiled sweeps behind :func:`residual_counts` (integer work: exact
counts of |r| below a cap, the larger values gathered) and :func:`residual_values`
(float work: the finite |r| gathered). Not here: the median of those values and what
it becomes (:mod:`pixel_patrol_base.processors.qc_metrics`). Work arrays and
rectangles are described in :mod:`pixel_patrol_base.imaging.kernels`.

Only positions in even plane rows and even plane columns are visited: a quarter of the
work, still a quarter of a million residuals for a megapixel plane, and neighbours
whose residuals would share most of their pixels are left out anyway. The residual is
Immerkaer's (1996) 3×3 Laplacian difference ``r = N ∗ I`` with
``N = [[1, −2, 1], [−2, 4, −2], [1, −2, 1]]``: it cancels every locally linear (and
bilinear) intensity, so on white noise of σ it has σ·‖N‖₂ = 6σ.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from pixel_patrol_base.imaging.kernels.lazy import compiled
from pixel_patrol_base.imaging.types import FloatArray, IntArray, Rect, WorkArray

RESIDUAL_CAP = 1 << 12
"""|r| below this is counted exactly; larger values (edges, spots) are gathered."""


@compiled
def _residual_counts(work: WorkArray, rect: Rect, cap: int) -> tuple[IntArray, IntArray]:
    y0, y1, x0, x1 = rect
    width = (max(0, x1 - x0) + 1) // 2
    rows = (max(0, y1 - y0) + 1) // 2
    # Four interleaved tallies: runs of equal residuals (flat areas) would otherwise make
    # every increment wait for the one before.
    t0 = np.zeros(cap, np.int64)
    t1 = np.zeros(cap, np.int64)
    t2 = np.zeros(cap, np.int64)
    t3 = np.zeros(cap, np.int64)
    row = np.empty(width, np.int32)
    large = np.empty(rows * width, np.int64)
    found = 0
    for y in range(y0, y1, 2):
        # columns x0 − 1 .. x1 of rows y − 1, y, y + 1: position x0 + 2k is at 2k + 1
        up = work[y - 1, x0 - 1 : x1 + 1]
        mid = work[y, x0 - 1 : x1 + 1]
        down = work[y + 1, x0 - 1 : x1 + 1]
        over = 0
        for k in range(width):  # |r| ≤ 16 · 2¹⁶: exact in int64, stored as int32
            i = 2 * k
            corners = up[i] + up[i + 2] + down[i] + down[i + 2]
            edges = up[i + 1] + down[i + 1] + mid[i] + mid[i + 2]
            value = abs(corners - 2 * edges + 4 * mid[i + 1])
            row[k] = min(value, cap - 1)
            over += value >= cap
        quads = width // 4
        for q in range(quads):
            t0[row[4 * q]] += 1
            t1[row[4 * q + 1]] += 1
            t2[row[4 * q + 2]] += 1
            t3[row[4 * q + 3]] += 1
        for k in range(4 * quads, width):
            t0[row[k]] += 1
        if over:  # the values at or above the cap were counted in its last slot
            for k in range(width):
                i = 2 * k
                corners = up[i] + up[i + 2] + down[i] + down[i + 2]
                edges = up[i + 1] + down[i + 1] + mid[i] + mid[i + 2]
                value = abs(corners - 2 * edges + 4 * mid[i + 1])
                if value >= cap:
                    large[found] = value
                    found += 1
    counts = t0 + t1 + t2 + t3
    counts[cap - 1] -= found
    return counts, large[:found].copy()


@compiled
def _residual_values(work: WorkArray, rect: Rect) -> FloatArray:
    y0, y1, x0, x1 = rect
    width = (max(0, x1 - x0) + 1) // 2
    out = np.empty((max(0, y1 - y0) + 1) // 2 * width)
    found = 0
    for y in range(y0, y1, 2):
        up = work[y - 1, x0 - 1 : x1 + 1]
        mid = work[y, x0 - 1 : x1 + 1]
        down = work[y + 1, x0 - 1 : x1 + 1]
        for k in range(width):
            i = 2 * k
            corners = up[i] + up[i + 2] + down[i] + down[i + 2]
            edges = up[i + 1] + down[i + 1] + mid[i] + mid[i + 2]
            value = abs(corners - 2.0 * edges + 4.0 * mid[i + 1])
            out[found] = value
            found += math.isfinite(value)
    return out[:found].copy()


def _even_rows(rect: Rect, origin: tuple[int, int]) -> Rect:
    """``rect`` starting at its first row and column whose plane row and column
    (``origin`` plus the position) are even."""
    y0, y1, x0, x1 = rect
    oy, ox = origin
    return y0 + (oy + y0) % 2, y1, x0 + (ox + x0) % 2, x1


def residual_counts(
    work: WorkArray, rect: Rect, origin: tuple[int, int]
) -> tuple[IntArray, IntArray]:
    """|r| at the positions of ``rect`` in even plane rows and columns, of an int32 work
    array, exactly.

    Args:
        work: The work array.
        rect: Positions to visit; their 3×3 neighbourhoods must lie inside ``work``.
        origin: The plane position of ``work[0, 0]`` (a tile's offset), which fixes the
            parity.

    Returns:
        ``counts[v]`` (how many |r| equal ``v``, for ``v`` below :data:`RESIDUAL_CAP`)
        and the values of |r| at or above the cap, unsorted.
    """
    return _residual_counts(work, _even_rows(rect, origin), RESIDUAL_CAP)


def residual_values(work: WorkArray, rect: Rect, origin: tuple[int, int]) -> FloatArray:
    """The finite |r| at the positions of ``rect`` in even plane rows and columns, of a
    float64 work array (1D); ``origin`` as for :func:`residual_counts`."""
    values: npt.NDArray[np.float64] = _residual_values(work, _even_rows(rect, origin))
    return values
