"""3×3 neighbour filters and the radial power spectrum, shared by the per-plane processors.

Belongs here: filter kernels, sums of a filter output over a rectangle, and the spectral
slope. Not here: which metric uses which filter.

Filters take a C-contiguous 2D *work array* and return an array of the same shape whose
value at (y, x) uses the 3×3 neighbourhood of (y, x); the outermost rows and columns,
where that neighbourhood leaves the array, hold 0 and must not be used. The kernels run
on the flattened array with shifted slices, several times faster in numpy than shifted
2D views. Integers of up to 16 bits are worked in int32, where every sum below is exact
(so results equal float64 arithmetic on the same values, only faster); other types in
float64.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from pixel_patrol_base.imaging.stats import FloatArray, Moments
from pixel_patrol_base.imaging.tiles import Rect

BoolArray = npt.NDArray[np.bool_]
Field = npt.NDArray[Any]
"""A filter output: int32 or float64, the shape of the work array."""
Sums = tuple[int, float, float]
"""(n, Σv, Σv²) of the selected values of a field."""


def _clear_columns(out: Field, cols: int) -> Field:
    grid = out.reshape(-1, cols)
    grid[:, 0] = 0
    grid[:, -1] = 0
    return grid


def _inner(work: Field) -> tuple[Field, int, int, int] | None:
    """(flat, cols, lo, hi): the flat positions [lo, hi) span rows 1 .. rows − 2."""
    rows, cols = work.shape
    if rows < 3 or cols < 3:
        return None
    n = rows * cols
    return work.ravel(), cols, cols + 1, n - cols - 1


def laplacian(work: Field) -> Field:
    """4-neighbour discrete Laplacian: up + down + left + right − 4·centre."""
    out = np.zeros(work.size, work.dtype)
    inner = _inner(work)
    if inner is None:
        return out.reshape(work.shape)
    flat, w, lo, hi = inner
    dest = out[lo:hi]
    np.add(flat[lo - w : hi - w], flat[lo + w : hi + w], out=dest)
    dest += flat[lo - 1 : hi - 1]
    dest += flat[lo + 1 : hi + 1]
    centre = flat[lo:hi] * 4
    dest -= centre
    return _clear_columns(out, w)


def box_sum(work: Field) -> Field:
    """Sum over the 3×3 neighbourhood."""
    out = np.zeros(work.size, work.dtype)
    inner = _inner(work)
    if inner is None:
        return out.reshape(work.shape)
    flat, w, lo, hi = inner
    across = np.add(flat[:-2], flat[1:-1])
    across += flat[2:]  # across[p - 1] = flat[p - 1] + flat[p] + flat[p + 1]
    dest = out[lo:hi]
    np.add(across[lo - w - 1 : hi - w - 1], across[lo - 1 : hi - 1], out=dest)
    dest += across[lo + w - 1 : hi + w - 1]
    return _clear_columns(out, w)


def local_sigma9(work: Field, sums: Field, *, exact: bool) -> FloatArray:
    """Nine times the population std of each 3×3 neighbourhood (float64).

    Args:
        work: The work array.
        sums: ``box_sum(work)``.
        exact: ``work`` holds integers of at most 16 bits: then ``9·Σx² − (Σx)²`` is
            computed exactly in float64 and 9σ is its square root. Otherwise 9σ is
            ``3·sqrt(Σ(x − μ)²)`` with the nine deviations from μ = Σx / 9 (two-pass).
    """
    rows, cols = work.shape
    if exact:
        squares = box_sum(np.multiply(work, work, dtype=np.float64))
        squares *= 9.0
        squares -= np.multiply(sums, sums, dtype=np.float64)  # exact, so never negative
        return np.sqrt(squares, out=squares)
    acc = np.zeros(rows * cols)
    inner = _inner(work)
    if inner is not None:
        flat, w, lo, hi = inner
        centre = sums.ravel()[lo:hi] / 9.0
        dest = acc[lo:hi]
        for shift in (-w - 1, -w, -w + 1, -1, 0, 1, w - 1, w, w + 1):
            dev = flat[lo + shift : hi + shift] - centre
            dev *= dev
            dest += dev
        np.sqrt(acc, out=acc)
        acc *= 3.0
    return _clear_columns(acc, cols)


def residual9(work: Field, sums: Field) -> Field:
    """Nine times the 3×3 high-pass residual: 9·x − Σ₃ₓ₃x = 9·(x − μ)."""
    out = work * 9
    out -= sums
    return out


def sobel_squared(work: Field) -> FloatArray:
    """Squared Sobel magnitude Gx² + Gy² (kernels [1 2 1]ᵀ[−1 0 1] and its transpose)."""
    out = np.zeros(work.size)
    inner = _inner(work)
    if inner is None:
        return out.reshape(work.shape)
    flat, w, lo, hi = inner
    n = flat.size
    double = flat * 2
    vertical = np.add(flat[: n - 2 * w], flat[2 * w :])  # centred on p = index + w
    vertical += double[w : n - w]
    gx = vertical[lo - w + 1 : hi - w + 1] - vertical[lo - w - 1 : hi - w - 1]
    horizontal = np.add(flat[:-2], flat[2:])  # centred on p = index + 1
    horizontal += double[1:-1]
    gy = horizontal[lo + w - 1 : hi + w - 1] - horizontal[lo - w - 1 : hi - w - 1]
    np.add(
        np.multiply(gx, gx, dtype=np.float64),
        np.multiply(gy, gy, dtype=np.float64),
        out=out[lo:hi],
    )
    return _clear_columns(out, w)


CHUNK_PIXELS = 1 << 17
"""Pixels per chunk of rows: small enough that a chunk's temporaries stay in cache."""


def row_chunks(rect: Rect, shape: tuple[int, int], halo: int) -> Iterator[tuple[int, int, Rect]]:
    """Cut the rows of ``rect`` into chunks, each with ``halo`` rows of context.

    Yields:
        (start, stop, local): rows ``start:stop`` of the array to take, and ``rect``'s
        part of the chunk in the coordinates of that slice.
    """
    y0, y1, x0, x1 = rect
    rows, cols = shape
    if y1 <= y0 or x1 <= x0:
        return
    step = max(1, CHUNK_PIXELS // cols)
    for top in range(y0, y1, step):
        bottom = min(y1, top + step)
        start, stop = max(0, top - halo), min(rows, bottom + halo)
        yield start, stop, (top - start, bottom - start, x0, x1)


def add_sums(a: Sums, b: Sums) -> Sums:
    """Element-wise sum of two :data:`Sums`."""
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


def dilate(mask: BoolArray) -> BoolArray:
    """3×3 dilation of a mask that is false on the outermost rows and columns."""
    rows, cols = mask.shape
    flat = mask.ravel()
    across = flat.copy()
    across[1:] |= flat[:-1]
    across[:-1] |= flat[1:]
    out = across.copy()
    out[cols:] |= across[:-cols]
    out[:-cols] |= across[cols:]
    return out.reshape(rows, cols)


def rect_sums(field: Field, rect: Rect, *, finite: bool, mask: BoolArray | None = None) -> Sums:
    """(n, Σv, Σv²) of ``field`` over a rectangle, skipping non-finite values and ``~mask``.

    Integer fields are summed exactly (products in float64 are exact for their range).

    Args:
        field: 2D C-contiguous values.
        rect: (y0, y1, x0, x1) to cover.
        finite: The caller knows every value in the rectangle is finite.
        mask: Optional further selection (same shape as ``field``).
    """
    y0, y1, x0, x1 = rect
    if y1 <= y0 or x1 <= x0:
        return 0, 0.0, 0.0
    block = field[y0:y1]
    if finite and mask is None:
        return _sums(block[:, x0:x1] if x0 > 0 or x1 < field.shape[1] else block)
    keep = mask[y0:y1].copy() if mask is not None else np.ones(block.shape, np.bool_)
    if not finite:
        keep &= np.isfinite(block)
    keep[:, :x0] = False
    keep[:, x1:] = False
    _, s1, s2 = _sums(np.where(keep, block, 0))
    return int(np.count_nonzero(keep)), s1, s2


def _sums(values: Field) -> Sums:
    flat = values.reshape(-1) if values.flags.c_contiguous else values
    subscripts = "i,i->" if flat.ndim == 1 else "ij,ij->"
    s2 = float(np.einsum(subscripts, flat, flat, dtype=np.float64))
    return flat.size, float(flat.sum()), s2


def moments(sums: Sums, scale: float = 1.0) -> Moments:
    """Moments of the values ``v / scale`` from their :data:`Sums`.

    Σv² − (Σv)²/n is accurate for the fields it serves: zero-centred ones (Laplacian,
    residuals, MSCN) and local standard deviations, whose mean is of the order of their
    spread.
    """
    n, s1, s2 = sums
    if n <= 0:
        return Moments()
    mean = s1 / n
    return Moments(n, mean / scale, max(s2 - s1 * mean, 0.0) / (scale * scale))


def centre_crop(rows: int, cols: int, side: int = 512) -> Rect:
    """The centred rectangle of at most ``side`` × ``side`` pixels, in plane coordinates."""
    height, width = min(rows, side), min(cols, side)
    y0, x0 = (rows - height) // 2, (cols - width) // 2
    return y0, y0 + height, x0, x0 + width


def ring_index(rows: int, cols: int) -> npt.NDArray[np.int64]:
    """Ring of each rfft2 frequency: its radius in units of 1/max(h, w), rounded half up.

    Computed in exact integer arithmetic, so radii exactly half-way between two rings
    always go to the upper one.
    """
    ky = np.fft.fftfreq(rows, 1 / rows).astype(np.int64)[:, None]
    kx = np.arange(cols // 2 + 1, dtype=np.int64)[None, :]
    size = max(rows, cols)
    # radius·size = sqrt(s)·size / (rows·cols), s = ky²·cols² + kx²·rows²
    s = ky * ky * cols * cols + kx * kx * rows * rows
    scale = rows * cols
    ring = np.floor(np.sqrt(s.astype(np.float64)) * size / scale + 0.5).astype(np.int64)
    lhs = 4 * s * size * size  # ring j holds (2j − 1)²·scale² ≤ lhs < (2j + 1)²·scale²
    ring += lhs >= (2 * ring + 1) ** 2 * scale * scale
    ring -= (ring > 0) & (lhs < (2 * ring - 1) ** 2 * scale * scale)
    return ring


@dataclass(frozen=True)
class _Rings:
    """What the spectral slope needs about the rfft2 frequencies of one crop shape."""

    positions: npt.NDArray[np.intp]
    """Flat rfft2 positions whose ring lies in the band."""
    ring: npt.NDArray[np.intp]
    """Their ring, counted from the first ring of the band."""
    weights: FloatArray
    """How many full-spectrum frequencies each stands for (1 or 2)."""
    norm: FloatArray
    """Sum of the weights per ring of the band."""
    log_freq: FloatArray
    """ln of each band ring's frequency (cycles per pixel)."""
    window: FloatArray


@lru_cache(maxsize=32)
def _rings(rows: int, cols: int) -> _Rings:
    ring = ring_index(rows, cols).ravel()
    weight = np.ones(cols // 2 + 1)
    weight[1 : (cols - 1) // 2 + 1] = 2.0  # columns standing for two of the full spectrum
    weights = np.broadcast_to(weight, (rows, weight.size)).ravel()
    size = max(rows, cols)
    freq = ring / size
    band = np.flatnonzero((freq >= 0.025) & (freq <= 0.2))
    first = int(ring[band].min()) if band.size else 0
    local = ring[band] - first
    norm = np.bincount(local, weights=weights[band]).astype(np.float64)
    present = np.flatnonzero(norm > 0)
    log_freq = np.full(norm.size, np.nan)
    log_freq[present] = np.log((present + first) / size)
    window = np.outer(np.hanning(rows), np.hanning(cols))
    return _Rings(band, local, weights[band].copy(), norm, log_freq, window)


def spectral_slope(crop: FloatArray) -> float | None:
    """Least-squares slope of log radial power against log frequency (5–40 % of Nyquist).

    The crop's non-finite pixels are set to its finite mean, the mean is removed, a 2D
    Hann window applied, and the power |FFT|² averaged over rings of width 1/max(h, w)
    cycles per pixel (see :func:`ring_index`). Rings whose centre frequency lies in
    [0.025, 0.2] cycles per pixel and whose power is positive enter the fit; fewer than
    two give ``None``.
    """
    rows, cols = crop.shape
    finite = np.isfinite(crop)
    if not finite.all():
        if not finite.any():
            return None
        crop = np.where(finite, crop, crop[finite].mean())
    centred = crop - crop.mean()
    rings = _rings(rows, cols)
    centred *= rings.window
    spectrum = np.fft.rfft2(centred).ravel()[rings.positions]
    power = spectrum.real**2 + spectrum.imag**2
    power *= rings.weights
    sums = np.bincount(rings.ring, weights=power, minlength=rings.norm.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        ring_power = sums / rings.norm
    keep = (rings.norm > 0) & (ring_power > 0)
    if np.count_nonzero(keep) < 2:
        return None
    x = rings.log_freq[keep]
    y = np.log(ring_power[keep])
    x -= x.mean()
    denominator = float(np.einsum("i,i->", x, x))
    if denominator == 0 or not math.isfinite(denominator):
        return None
    return float(np.einsum("i,i->", x, y - y.mean())) / denominator
