"""Compiled (numba) sweeps over a work array, each fusing many numpy passes into one.

Belongs here: loops that visit every position of a rectangle once and return sums or a
field — the 3×3 filter sums of ``raster-quality`` and the windowed crop of its spectral
slope; the block jumps, squared Sobel magnitudes and ringing sums of
``raster-compression``; the counting and gathering step of exact selection. Not here:
which metric uses which sum (the processors), moments and the FFT (stencil), the
selection itself (order).

A *work array* is 2D and C-contiguous: int32 for integers of up to 16 bits, where every
filter value below is an exact integer, or float64 for everything else. No other dtype
reaches a kernel, so numba compiles each at most twice; the machine code is cached in
``__pycache__``. A kernel gets the rectangle (y0, y1, x0, x1) of positions to visit,
whose 3×3 neighbourhoods must lie inside the array, so the same kernel serves a whole
plane and a tile of it with its halo. A float position whose filter value is not finite
(a non-finite pixel nearby, or an overflow) is skipped, as ``isfinite`` would skip it.

Loops index row views from 0 up (numba then needs no check for negative indices, and
indexing is faster than iterating over an array) and keep branches out of their
bodies, so that they vectorise. Kernels never start threads: one job, one core.

numba is imported, and the kernels compiled or loaded from the cache, at the first call
of a public kernel: importing this module, which every processor plugin does, costs
nothing, so the processes that only need processor metadata (the CLI, the plan and merge
jobs) never import numba.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple, ParamSpec, TypeVar

import numpy as np
import numpy.typing as npt

from pixel_patrol_base.imaging.stats import FloatArray
from pixel_patrol_base.imaging.tiles import Rect

Sums = tuple[int, float, float]
"""(n, Σv, Σv²) of the values a kernel selected."""
WorkArray = npt.NDArray[Any]
"""int32 (integers of up to 16 bits) or float64, 2D and C-contiguous."""

P = ParamSpec("P")
R = TypeVar("R")


_NUMBA_OPTIONS: dict[str, dict[str, Any]] = {}
"""The kernels of this module, by name, and the numba options they are compiled with."""


def _compiled(function: Callable[P, R]) -> Callable[P, R]:
    """Marks ``function`` to be compiled by numba (see :func:`_compile_all`), cached on
    disk, without the GIL; division by zero gives ±inf or NaN as in numpy."""
    _NUMBA_OPTIONS[function.__name__] = {"cache": True, "nogil": True, "error_model": "numpy"}
    return function


def _summing(function: Callable[P, R]) -> Callable[P, R]:
    """:func:`_compiled`, with float sums that may be reassociated so that their loops
    vectorise (NaN and ±inf keep their meaning)."""
    _compiled(function)
    _NUMBA_OPTIONS[function.__name__]["fastmath"] = {"reassoc"}
    return function


@functools.cache
def _compile_all() -> None:
    """Replace every marked function of this module by its numba dispatcher, all before
    any runs, so that kernels calling kernels find dispatchers when numba compiles them."""
    import numba

    scope = globals()
    for name, options in _NUMBA_OPTIONS.items():
        scope[name] = numba.njit(**options)(scope[name])


def _public(function: Callable[P, R]) -> Callable[P, R]:
    """A kernel's entry point: the first call compiles the kernels (:func:`_compile_all`)."""

    @functools.wraps(function)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        _compile_all()
        return function(*args, **kwargs)

    return call


@_compiled
def _rows(work: WorkArray, y: int, x0: int, x1: int) -> tuple[Any, Any, Any]:
    """Rows ``y − 1``, ``y``, ``y + 1`` at columns ``x0 − 1 .. x1``: index ``i`` of each
    view is column ``x0 − 1 + i``."""
    return work[y - 1, x0 - 1 : x1 + 1], work[y, x0 - 1 : x1 + 1], work[y + 1, x0 - 1 : x1 + 1]


def _sums(out: FloatArray, at: int) -> Sums:
    return int(out[at]), float(out[at + 1]), float(out[at + 2])


@_summing
def _quality_exact(work: WorkArray, rect: Rect, mscn: bool, constant9: float) -> FloatArray:
    out = np.zeros(9)
    y0, y1, x0, x1 = rect
    width = x1 - x0 + 2
    # int32 holds every sum of up to nine 16-bit pixels (and vectorises twice as wide as
    # numba's default int64); the squares need int64
    box = np.empty(width, np.int32)
    squares = np.empty(width, np.int64)
    for y in range(y0, y1):
        up, mid, down = _rows(work, y, x0, x1)
        for i in range(width):
            a, b, c = up[i], mid[i], down[i]
            box[i] = a + b + c
            squares[i] = np.int64(a) * a + np.int64(b) * b + np.int64(c) * c
        lap_sum = var_sum = mscn_n = 0
        lap_squares = sigma_sum = mscn_sum = mscn_squares = 0.0
        for i in range(1, width - 1):
            total = np.int32(box[i - 1] + box[i] + box[i + 1])
            var9 = 9 * (squares[i - 1] + squares[i] + squares[i + 1]) - np.int64(total) * total
            sigma9 = math.sqrt(var9)
            lap = np.int32(up[i] + down[i] + mid[i - 1] + mid[i + 1] - 4 * mid[i])
            lap_sum += int(lap)
            lap_squares += float(lap) * float(lap)  # exact: |lap| < 2¹⁹
            sigma_sum += sigma9
            var_sum += var9
            if mscn:
                # The denominator is 0 only on a flat patch when C is 0, where the
                # numerator is 0 too: that 0 / 0 is left out (cheaper than isfinite).
                denominator = sigma9 + constant9
                value = float(np.int32(9 * mid[i] - total)) / (
                    denominator if denominator > 0 else 1.0
                )
                mscn_n += denominator > 0
                mscn_sum += value
                mscn_squares += value * value
        out[1] += lap_sum
        out[2] += lap_squares
        out[4] += sigma_sum
        out[5] += var_sum
        out[6] += mscn_n
        out[7] += mscn_sum
        out[8] += mscn_squares
    out[0] = out[3] = max(0, y1 - y0) * max(0, x1 - x0)
    return out


@_summing
def _quality_float(work: WorkArray, rect: Rect, mscn: bool, constant9: float) -> FloatArray:
    out = np.zeros(9)
    y0, y1, x0, x1 = rect
    width = x1 - x0 + 2
    box = np.empty(width)
    for y in range(y0, y1):
        up, mid, down = _rows(work, y, x0, x1)
        for i in range(width):
            box[i] = up[i] + mid[i] + down[i]
        lap_n = sigma_n = mscn_n = 0
        lap_sum = lap_squares = sigma_sum = sigma_squares = mscn_sum = mscn_squares = 0.0
        for i in range(1, width - 1):
            total = box[i - 1] + box[i] + box[i + 1]
            mean = total / 9.0
            a, b, c = up[i - 1] - mean, up[i] - mean, up[i + 1] - mean
            d, e, f = mid[i - 1] - mean, mid[i] - mean, mid[i + 1] - mean
            g, h, k = down[i - 1] - mean, down[i] - mean, down[i + 1] - mean
            spread = a * a + b * b + c * c + d * d + e * e + f * f + g * g + h * h + k * k
            sigma9 = 3.0 * math.sqrt(spread)
            lap = up[i] + down[i] + mid[i - 1] + mid[i + 1] - 4.0 * mid[i]
            ok = math.isfinite(lap)
            lap_n += ok
            lap_sum += lap if ok else 0.0
            lap_squares += lap * lap if ok else 0.0
            ok = math.isfinite(sigma9)
            sigma_n += ok
            sigma_sum += sigma9 if ok else 0.0
            sigma_squares += sigma9 * sigma9 if ok else 0.0
            if mscn:
                value = (9.0 * mid[i] - total) / (sigma9 + constant9)
                ok = math.isfinite(value)
                mscn_n += ok
                mscn_sum += value if ok else 0.0
                mscn_squares += value * value if ok else 0.0
        out[0] += lap_n
        out[1] += lap_sum
        out[2] += lap_squares
        out[3] += sigma_n
        out[4] += sigma_sum
        out[5] += sigma_squares
        out[6] += mscn_n
        out[7] += mscn_sum
        out[8] += mscn_squares
    return out


@_public
def quality_sums(work: WorkArray, rect: Rect, constant9: float | None) -> tuple[Sums, Sums, Sums]:
    """Sums of the 3×3 filters of ``raster-quality`` over ``rect``, in one sweep.

    Args:
        work: The work array.
        rect: Positions to visit; their 3×3 neighbourhoods must lie inside ``work``.
        constant9: ``9·C`` of the MSCN, or ``None`` to leave the MSCN sums 0.

    Returns:
        Sums of the 4-neighbour Laplacian ``up + down + left + right − 4·centre``; of
        ``9σ``, σ the population std of the 3×3 neighbourhood (for integers
        ``sqrt(9·Σx² − (Σx)²)``, exact up to the square root; otherwise two-pass,
        ``3·sqrt(Σ(x − μ)²)`` over the nine deviations from the mean μ); and of the MSCN
        ``(9·x − Σx) / (9σ + 9·C) = (x − μ) / (σ + C)``.
    """
    kernel = _quality_exact if work.dtype == np.int32 else _quality_float
    mscn = constant9 is not None
    out = kernel(work, rect, mscn, constant9 if constant9 is not None else 0.0)
    return _sums(out, 0), _sums(out, 3), _sums(out, 6)


@_summing
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


@_public
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


@_compiled
def _sobel_field(work: WorkArray, rect: Rect) -> FloatArray:
    y0, y1, x0, x1 = rect
    out = np.empty((max(0, y1 - y0), max(0, x1 - x0)))
    same = work.dtype.type  # int32 holds the integer sums exactly, and vectorises wider
    for y in range(y0, y1):
        up, mid, down = _rows(work, y, x0, x1)
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


@_public
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


@_summing
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
        up, mid, down = _rows(work, y, x0, x1)
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


@_public
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
    near = _sums(out, 0)
    return near, (int(out[3]) - near[0], float(out[4] - out[1]), float(out[5] - out[2]))


@_summing
def _windowed(work: WorkArray, rect: Rect, window: FloatArray) -> tuple[int, FloatArray]:
    y0, y1, x0, x1 = rect
    n = 0
    total = 0.0
    for y in range(y0, y1):
        row = work[y, x0:x1]
        for i in range(row.size):
            ok = math.isfinite(row[i])
            n += ok
            total += row[i] if ok else 0.0
    out = np.empty((y1 - y0, x1 - x0))
    mean = total / max(n, 1)
    for y in range(y0, y1):
        row, weights, centred = work[y, x0:x1], window[y - y0], out[y - y0]
        for i in range(row.size):
            value = row[i] if math.isfinite(row[i]) else mean
            centred[i] = (value - mean) * weights[i]
    return n, out


@_public
def windowed(work: WorkArray, rect: Rect, window: FloatArray) -> FloatArray | None:
    """The pixels of ``rect``, non-finite ones set to the mean μ of the finite ones, minus
    μ, times ``window`` (the shape of ``rect``); ``None`` without finite pixels."""
    n, out = _windowed(work, rect, window)
    return out if n else None


@_compiled
def _split(
    values: FloatArray, low: float, high: float, first: int, last: int, limit: int
) -> tuple[int, int, int, int, FloatArray]:
    n = values.size
    mask = np.empty(n, np.uint8)
    below = closed = 0
    for i in range(n):  # vectorised: comparisons only (−0.0 compares equal to +0.0)
        value = values[i]
        marked = (value >= low) & (value <= high)
        below += value < low
        mask[i] = marked
        closed += marked
    if low == high:  # one tie
        return below, closed, 0, 0, np.empty(0)
    at_low = at_high = 0
    inside = closed
    if closed > limit:  # ties at the ends: counted in a second sweep, never gathered
        inside = 0
        for i in range(n):  # vectorised
            value = values[i]
            marked = (value > low) & (value < high)
            at_low += value == low
            mask[i] = marked
            inside += marked
        at_high = closed - at_low - inside
        start = below + at_low
        if last < start or first >= start + inside:  # no wanted rank strictly inside
            return below, at_low, inside, at_high, np.empty(0)
    out = np.empty(inside + 8)
    found = 0
    whole = n // 8
    words = mask[: 8 * whole].view(np.uint64)  # eight marks at a time: most words are 0
    for w in range(whole):
        if words[w]:
            for i in range(8 * w, 8 * w + 8):
                out[found] = values[i]  # kept only where marked: no branch to mispredict
                found += mask[i]
    for i in range(8 * whole, n):
        out[found] = values[i]
        found += mask[i]
    return below, at_low, inside, at_high, out[:inside]


class Split(NamedTuple):
    """Where values lie about a bracket [low, high], in sorted order: ``below`` values
    under ``low``, ``at_low`` equal to it, ``inside`` others of [low, high], ``at_high``
    equal to ``high``, then the rest.

    Values equal to an end are counted in ``at_low`` and ``at_high`` when [low, high]
    holds many values (ties), or when ``low == high``; otherwise both are 0 and those
    values are among the ``inside`` ones."""

    below: int
    at_low: int
    inside: int
    at_high: int
    values: FloatArray
    """The ``inside`` values (a copy, in their order); empty when the values equal to the
    ends were counted and every wanted rank is among those."""


@_public
def split(
    values: FloatArray, low: float, high: float, wanted: tuple[int, int], expected: int
) -> Split:
    """Count the values below and at the ends of [low, high], and gather the others of
    [low, high] when a wanted rank may lie among them.

    With ties (an integer-valued field, most of it 0) nearly every value can equal an
    end: a second sweep then counts the values equal to either, so that a rank among
    them is known without moving any value, and only the values strictly between the
    ends are gathered. It is made when [low, high] holds more than twice ``expected``.

    Args:
        values: Finite values, 1D and C-contiguous.
        low: Lower end.
        high: Upper end, at least ``low``.
        wanted: Smallest and largest wanted 0-based rank among all ``values``.
        expected: About how many values [low, high] would hold without ties.
    """
    first, last = wanted
    return Split(*_split(values, float(low), float(high), first, last, 2 * expected))


@_compiled
def _count(flat: npt.NDArray[Any], low: int, size: int) -> npt.NDArray[np.int64]:
    # Two interleaved tallies: runs of equal neighbours (common in images) would
    # otherwise make every increment wait for the one before.
    even = np.zeros(size, np.int64)
    odd = np.zeros(size, np.int64)
    pairs = flat.size // 2
    for i in range(pairs):
        even[flat[2 * i] - low] += 1
        odd[flat[2 * i + 1] - low] += 1
    if flat.size % 2:
        even[flat[flat.size - 1] - low] += 1
    return even + odd


@_public
def count_values(flat: npt.NDArray[Any], low: int, high: int) -> npt.NDArray[np.int64]:
    """``counts[v − low]``: how many of ``flat`` equal ``v``, for ``v`` in [low, high].

    Args:
        flat: uint8 or uint16 values, 1D and C-contiguous, all within [low, high].
        low: Smallest value.
        high: Largest value.
    """
    return _count(flat, int(low), int(high) - int(low) + 1)
