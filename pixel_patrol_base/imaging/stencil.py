"""Moments of filter sums and the radial power spectrum, shared by the per-plane processors.

Belongs here: turning the :data:`~pixel_patrol_base.imaging.types.Sums` that the
compiled sweeps return into moments, the centre crop, and the spectral slope. Not here:
the sweeps themselves (kernels), or which metric uses which filter (the processors).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from pixel_patrol_base.imaging.kernels import windowed
from pixel_patrol_base.imaging.stats import Moments
from pixel_patrol_base.imaging.types import FloatArray, Rect, Sums, WorkArray


def add_sums(a: Sums, b: Sums) -> Sums:
    """Element-wise sum of two :data:`Sums`."""
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


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

    columns: int
    """rfft2 columns (non-negative x frequencies) up to the last one the band reaches."""
    positions: npt.NDArray[np.intp]
    """Flat positions, in those columns of the rfft2, whose ring lies in the band."""
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
    grid = ring_index(rows, cols)
    size = max(rows, cols)
    freq = grid / size
    inside = (freq >= 0.025) & (freq <= 0.2)
    columns = int(np.flatnonzero(inside.any(axis=0)).max(initial=0)) + 1
    ring = grid[:, :columns].ravel()
    weight = np.ones(cols // 2 + 1)
    weight[1 : (cols - 1) // 2 + 1] = 2.0  # columns standing for two of the full spectrum
    weights = np.broadcast_to(weight[:columns], (rows, columns)).ravel()
    band = np.flatnonzero(inside[:, :columns])
    first = int(ring[band].min()) if band.size else 0
    local = ring[band] - first
    norm = np.bincount(local, weights=weights[band]).astype(np.float64)
    present = np.flatnonzero(norm > 0)
    log_freq = np.full(norm.size, np.nan)
    log_freq[present] = np.log((present + first) / size)
    window = np.outer(np.hanning(rows), np.hanning(cols))
    return _Rings(columns, band, local, weights[band].copy(), norm, log_freq, window)


class CropSpectrum:
    """|FFT|² of one crop, prepared as :func:`spectral_slope` says (non-finite pixels set
    to the finite mean, mean removed, 2D Hann window), computed column by column as asked.

    :meth:`power` gives the first columns of the rfft2 half-spectrum; the transform
    along the rows is made once, the one along the columns only for columns not yet
    asked for. Processors that share a whole-plane tile share one through
    ``tile.cached(CROP_SPECTRUM, ...)``, so each part of the FFT is made once per plane.
    """

    def __init__(self, work: WorkArray, rect: Rect) -> None:
        y0, y1, x0, x1 = rect
        self.shape = (y1 - y0, x1 - x0)
        self._centred = windowed(work, rect, _rings(*self.shape).window)
        self._half: npt.NDArray[np.complex128] | None = None
        self._power: FloatArray | None = None
        self._done = 0
        """Columns of ``_power`` computed so far."""

    def power(self, columns: int | None = None) -> FloatArray | None:
        """|FFT|² at the first ``columns`` (all: ``cols // 2 + 1``) non-negative x
        frequencies, shape (rows, columns); ``None`` without finite pixels."""
        if self._centred is None:
            return None
        wanted = self.shape[1] // 2 + 1 if columns is None else columns
        if self._half is None:
            self._half = np.fft.rfft(self._centred, axis=1)
        if self._power is None:
            self._power = np.empty(self._half.shape)
        if wanted > self._done:
            spectrum = np.fft.fft(self._half[:, self._done : wanted], axis=0)
            part = self._power[:, self._done : wanted]
            np.multiply(spectrum.real, spectrum.real, out=part)
            part += spectrum.imag**2
            self._done = wanted
        return self._power[:, :wanted]


CROP_SPECTRUM = "crop_spectrum"
"""Tile cache name of the :class:`CropSpectrum` of the plane's :func:`centre_crop`."""


def spectral_slope(
    work: WorkArray, rect: Rect, spectrum: CropSpectrum | None = None
) -> float | None:
    """Least-squares slope of log radial power against log frequency (5–40 % of Nyquist).

    The crop ``rect`` of ``work`` has its non-finite pixels set to its finite mean, the
    mean removed, a 2D Hann window applied, and the power |FFT|² averaged over rings of
    width 1/max(h, w) cycles per pixel (see :func:`ring_index`). Rings whose centre
    frequency lies in [0.025, 0.2] cycles per pixel and whose power is positive enter
    the fit; fewer than two (or no finite pixel) give ``None``. ``spectrum``, when
    given, is the :class:`CropSpectrum` of the same crop (``work`` is then not read).
    """
    y0, y1, x0, x1 = rect
    rings = _rings(y1 - y0, x1 - x0)
    if spectrum is None:
        spectrum = CropSpectrum(work, rect)
    # only the columns the band reaches
    found = spectrum.power(rings.columns)
    if found is None:
        return None
    power = np.ascontiguousarray(found).ravel()[rings.positions] * rings.weights
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
