"""The kernels of ``raster-compression``: block jumps, squared Sobel magnitudes and the
ringing sums near strong edges.

Belongs here: the compiled sweeps behind :func:`jump_sums`, :func:`sobel_field` and
:func:`ringing_sums`. Not here: the block grid, the edge threshold or the metrics built
from these sums (:mod:`pixel_patrol_base.processors.compression`). Work arrays and
rectangles are described in :mod:`pixel_patrol_base.imaging.kernels`.
"""

from __future__ import annotations

import math

import numpy as np

from pixel_patrol_base.imaging.kernels.lazy import compiled, summing, sums_at
from pixel_patrol_base.imaging.types import FloatArray, Rect, Sums, WorkArray


@summing
def _jumps(
    work: WorkArray, rect: Rect, limit: tuple[int, int], first: tuple[int, int], block: int
) -> FloatArray:
    out = np.zeros(4)  # Σ and n over boundary pairs, then over all pairs
    y0, y1, x0, x1 = rect
    last_y, last_x = limit
    first_y, first_x = first
    for y in range(y0, y1):
        pairs = work[y, x0 : max(x0, last_x) + 1]  # pairs (x, x + 1) for x < last_x
        along = along_n = edge = edge_n = 0
        for i in range(pairs.size - 1):
            jump = abs(pairs[i + 1] - pairs[i])
            ok = math.isfinite(jump)
            along += jump if ok else 0
            along_n += ok
        for i in range(first_x - x0, pairs.size - 1, block):
            jump = abs(pairs[i + 1] - pairs[i])
            ok = math.isfinite(jump)
            edge += jump if ok else 0
            edge_n += ok
        if y < last_y:
            row, below = work[y, x0:x1], work[y + 1, x0:x1]
            down = down_n = 0
            for i in range(row.size):
                jump = abs(below[i] - row[i])
                ok = math.isfinite(jump)
                down += jump if ok else 0
                down_n += ok
            along += down
            along_n += down_n
            if (y - first_y) % block == 0:
                edge += down
                edge_n += down_n
        out[0] += edge
        out[1] += edge_n
        out[2] += along
        out[3] += along_n
    return out


def jump_sums(
    work: WorkArray, rect: Rect, limit: tuple[int, int], first: tuple[int, int], block: int
) -> tuple[float, int, float, int]:
    """|Jumps| between adjacent pixels, across block boundaries and elsewhere.

    Visits the pairs (p, p + 1) along each axis whose first pixel p lies in ``rect``
    and before ``limit`` along that axis. Pairs with a non-finite jump are left out.

    Args:
        work: The work array.
        rect: First pixels of the pairs.
        limit: (row, column) that p must stay below along the pair's axis (the plane's
            last row and column, in the coordinates of ``work``).
        first: (row, column) of the first p in ``rect`` whose pair crosses a block
            boundary along that axis; every ``block``-th after it does too.
        block: Side of the blocks.

    Returns:
        (Σ|jump|, n) over the pairs across a boundary, then over the others.
    """
    edge, edge_n, along, along_n = _jumps(work, rect, limit, first, block)
    return float(edge), int(edge_n), float(along - edge), int(along_n - edge_n)


@compiled
def _sobel_field(work: WorkArray, rect: Rect) -> FloatArray:
    y0, y1, x0, x1 = rect
    out = np.empty((max(0, y1 - y0), max(0, x1 - x0)))
    same = work.dtype.type  # int32 holds the integer sums exactly, and vectorises wider
    for y in range(y0, y1):
        # rows y − 1, y, y + 1 at columns x0 − 1 .. x1: index i is column x0 − 1 + i
        up = work[y - 1, x0 - 1 : x1 + 1]
        mid = work[y, x0 - 1 : x1 + 1]
        down = work[y + 1, x0 - 1 : x1 + 1]
        row = out[y - y0]
        for i in range(row.size):
            left = same(up[i] + down[i] + 2 * mid[i])
            right = same(up[i + 2] + down[i + 2] + 2 * mid[i + 2])
            above = same(up[i] + up[i + 2] + 2 * up[i + 1])
            below = same(down[i] + down[i + 2] + 2 * down[i + 1])
            gx, gy = float(same(right - left)), float(same(below - above))
            # 0 when the nine pixels are finite, else NaN (0·±inf and 0·NaN are NaN)
            poison = 0 * up[i] + 0 * up[i + 1] + 0 * up[i + 2] + 0 * mid[i] + 0 * mid[i + 1]
            poison += 0 * mid[i + 2] + 0 * down[i] + 0 * down[i + 1] + 0 * down[i + 2]
            row[i] = gx * gx + gy * gy + poison
    return out


def sobel_field(work: WorkArray, rect: Rect) -> FloatArray:
    """Squared Sobel magnitude Gx² + Gy² at the positions of ``rect`` (shape of ``rect``).

    Sobel kernels: [1 2 1]ᵀ[−1 0 1] and its transpose. NaN where the 3×3 neighbourhood
    holds a non-finite pixel, also where the kernels give that pixel weight 0. Exact
    for integer work. Compiled with strict float arithmetic: a position gets the same
    value in whichever rectangle it is computed (the tiles of a plane, pass after pass),
    so it compares with a threshold taken from an earlier pass as it did there.
    """
    field: FloatArray = _sobel_field(work, rect)
    return field


@summing
def _ringing(
    work: WorkArray, rect: Rect, field: FloatArray, origin: tuple[int, int], threshold: float
) -> FloatArray:
    out = np.zeros(6)  # n, Σ, Σ² near strong edges, then of all positions
    y0, y1, x0, x1 = rect
    fy0, fx0 = origin
    fy1, fx1 = fy0 + field.shape[0], fx0 + field.shape[1]
    lo, hi = max(x0 - 1, fx0), min(x1 + 1, fx1)
    width = max(0, x1 - x0) + 2
    strong = np.zeros((3, width), np.uint8)  # row r at r % 3; index i is column x0 − 1 + i
    near = np.empty(width, np.uint8)  # a strong edge in the column, rows y − 1 .. y + 1
    box = np.empty(width, work.dtype)
    same = work.dtype.type  # int32 holds the integer sums exactly, and vectorises wider
    for y in range(y0 - 2, y1):
        flags = strong[(y + 1) % 3]
        flags[:] = 0
        if fy0 <= y + 1 < fy1:
            strengths = field[y + 1 - fy0, lo - fx0 : hi - fx0]
            inside = flags[lo - x0 + 1 : hi - x0 + 1]
            for i in range(strengths.size):
                inside[i] = strengths[i] > threshold
        if y < y0:
            continue
        for i in range(width):
            near[i] = strong[0, i] | strong[1, i] | strong[2, i]
        # rows y − 1, y, y + 1 at columns x0 − 1 .. x1: index i is column x0 − 1 + i
        up = work[y - 1, x0 - 1 : x1 + 1]
        mid = work[y, x0 - 1 : x1 + 1]
        down = work[y + 1, x0 - 1 : x1 + 1]
        for i in range(width):
            box[i] = same(up[i] + mid[i] + down[i])
        near_n = all_n = 0
        near_sum = near_squares = all_sum = all_squares = 0.0
        for i in range(1, width - 1):
            residual = float(same(9 * mid[i] - (box[i - 1] + box[i] + box[i + 1])))
            ok = math.isfinite(residual)
            close = ok & ((near[i - 1] | near[i] | near[i + 1]) != 0)
            value = residual if ok else 0.0
            all_n += ok
            all_sum += value
            all_squares += value * value
            near_n += close
            near_sum += value if close else 0.0
            near_squares += value * value if close else 0.0
        out[0] += near_n
        out[1] += near_sum
        out[2] += near_squares
        out[3] += all_n
        out[4] += all_sum
        out[5] += all_squares
    return out


def ringing_sums(
    work: WorkArray, rect: Rect, field: FloatArray, origin: tuple[int, int], threshold: float
) -> tuple[Sums, Sums]:
    """Sums of the 3×3 high-pass residual ``9·x − Σ₃ₓ₃x`` near strong edges and elsewhere.

    A position is near a strong edge when a position of its 3×3 neighbourhood has a
    squared Sobel magnitude above ``threshold``. Positions whose residual is not finite
    are skipped.

    Args:
        work: The work array.
        rect: Positions to visit; their 3×3 neighbourhoods must lie inside ``work``.
        field: :func:`sobel_field` of a rectangle that starts at ``origin`` and holds
            the neighbours of ``rect`` whose magnitude is defined; positions outside it
            are not strong edges.
        origin: (row, column) of ``field[0, 0]`` in ``work``.
        threshold: Strong edges have a magnitude above it.

    Returns:
        (near, far) sums over the positions of ``rect``.
    """
    out = _ringing(work, rect, field, origin, threshold)
    near = sums_at(out, 0)
    return near, (int(out[3]) - near[0], float(out[4] - out[1]), float(out[5] - out[2]))
