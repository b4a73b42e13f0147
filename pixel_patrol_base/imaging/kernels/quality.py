"""The kernels of ``raster-quality``: its 3×3 filter sums and the windowed crop of its
spectral slope.

Belongs here: the compiled sweeps behind :func:`quality_sums` (Laplacian, local σ and
MSCN in one pass, exact for integer work) and :func:`windowed`. Not here: turning the
sums into moments and the spectrum into a slope (:mod:`pixel_patrol_base.imaging.stencil`),
or which metric uses which sum (:mod:`pixel_patrol_base.processors.quality`). Work
arrays and rectangles are described in :mod:`pixel_patrol_base.imaging.kernels`.
"""

from __future__ import annotations

import math

import numpy as np

from pixel_patrol_base.imaging.kernels.lazy import summing, sums_at
from pixel_patrol_base.imaging.types import FloatArray, Rect, Sums, WorkArray


@summing
def _quality_exact(work: WorkArray, rect: Rect, mscn: bool, constant9: float) -> FloatArray:
    out = np.zeros(9)
    y0, y1, x0, x1 = rect
    width = x1 - x0 + 2
    # int32 holds every sum of up to nine 16-bit pixels (and vectorises twice as wide as
    # numba's default int64); the squares need int64
    box = np.empty(width, np.int32)
    squares = np.empty(width, np.int64)
    for y in range(y0, y1):
        # rows y − 1, y, y + 1 at columns x0 − 1 .. x1: index i is column x0 − 1 + i
        up = work[y - 1, x0 - 1 : x1 + 1]
        mid = work[y, x0 - 1 : x1 + 1]
        down = work[y + 1, x0 - 1 : x1 + 1]
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


@summing
def _quality_float(work: WorkArray, rect: Rect, mscn: bool, constant9: float) -> FloatArray:
    out = np.zeros(9)
    y0, y1, x0, x1 = rect
    width = x1 - x0 + 2
    box = np.empty(width)
    for y in range(y0, y1):
        # rows y − 1, y, y + 1 at columns x0 − 1 .. x1: index i is column x0 − 1 + i
        up = work[y - 1, x0 - 1 : x1 + 1]
        mid = work[y, x0 - 1 : x1 + 1]
        down = work[y + 1, x0 - 1 : x1 + 1]
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
    return sums_at(out, 0), sums_at(out, 3), sums_at(out, 6)


@summing
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


def windowed(work: WorkArray, rect: Rect, window: FloatArray) -> FloatArray | None:
    """The pixels of ``rect``, non-finite ones set to the mean μ of the finite ones, minus
    μ, times ``window`` (the shape of ``rect``); ``None`` without finite pixels."""
    n, out = _windowed(work, rect, window)
    return out if n else None
