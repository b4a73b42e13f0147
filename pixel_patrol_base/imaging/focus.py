"""A focus measure from the radial power spectrum that ignores noise, gain and offset.

Belongs here: :func:`band_focus`, the band ratio of ``raster-qc``'s ``focus_score``, from
the half-spectrum :meth:`~pixel_patrol_base.imaging.stencil.CropSpectrum.power` gives. Not here:
the FFT and the ring geometry (:mod:`~pixel_patrol_base.imaging.stencil`).

The windowed, mean-free crop removes the offset; gain scales every ring by a², which
the ratio cancels. White noise adds the same power to every ring, so the median ring
power near Nyquist (where a microscope passes little signal) is subtracted from both
bands before they are compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from pixel_patrol_base.imaging.stencil import ring_index
from pixel_patrol_base.imaging.types import FloatArray

LOW_BAND = (0.01, 0.05)
MID_BAND = (0.08, 0.25)
NOISE_BAND = (0.40, 0.50)
"""Frequency bands, in cycles per pixel, half-open."""
FLOOR = -6.0
"""``focus_score`` when no detail rises above the noise floor."""
MIN_SIDE = 32
"""Crops with a shorter side give no score."""
MAX_FX = 0.25
"""Only frequencies with |fx| below this (cycles per pixel) enter a ring's mean: the
whole of every ring of the low and mid bands, and the part of the noise band's annulus
nearest the fy axis. White noise is the same everywhere, and the FFT along the columns
is then needed for a quarter of them, most of which ``spectral_slope`` needs too."""


@dataclass(frozen=True)
class _Bands:
    positions: npt.NDArray[np.intp]
    """Flat positions, in the rfft2 half-spectrum, of the frequencies in some band."""
    ring: npt.NDArray[np.intp]
    """Their ring."""
    weights: FloatArray
    """How many full-spectrum frequencies each stands for (1 or 2)."""
    norm: FloatArray
    """Sum of the weights per ring."""
    low: npt.NDArray[np.intp]
    mid: npt.NDArray[np.intp]
    noise: npt.NDArray[np.intp]
    """Rings (with frequencies) in each band."""


def columns(cols: int) -> int:
    """rfft2 columns the score reads: x frequencies ``kx / cols`` below :data:`MAX_FX`."""
    return min(cols // 2 + 1, math.ceil(MAX_FX * cols))


@lru_cache(maxsize=32)
def _bands(rows: int, cols: int) -> _Bands:
    width = columns(cols)
    grid = ring_index(rows, cols)[:, :width]
    size = max(rows, cols)
    weight = np.ones(cols // 2 + 1)
    weight[1 : (cols - 1) // 2 + 1] = 2.0  # columns standing for two of the full spectrum
    weights = np.broadcast_to(weight[:width], grid.shape).ravel().copy()
    ring = grid.ravel().astype(np.intp)
    norm = np.bincount(ring, weights=weights).astype(np.float64)
    freq = np.arange(norm.size) / size
    present = norm > 0

    def band(limits: tuple[float, float]) -> npt.NDArray[np.intp]:
        return np.flatnonzero(present & (freq >= limits[0]) & (freq < limits[1]))

    low, mid, noise = band(LOW_BAND), band(MID_BAND), band(NOISE_BAND)
    used = np.zeros(norm.size, bool)
    used[np.concatenate([low, mid, noise])] = True
    positions = np.flatnonzero(used[ring])  # only these rings are summed
    return _Bands(positions, ring[positions], weights[positions], norm, low, mid, noise)


def band_focus(power: FloatArray, shape: tuple[int, int]) -> float | None:
    """``log10(S_mid / S_low)`` clamped to [:data:`FLOOR`, 0], from a crop's half-spectrum.

    Ring power is the weighted mean |FFT|² over the frequencies of each ring of width
    1/max(h, w) cycles per pixel (the rings of
    :func:`~pixel_patrol_base.imaging.stencil.ring_index`) whose |fx| is below
    :data:`MAX_FX`.
    ``F`` is the median ring power of :data:`NOISE_BAND`, ``S_mid`` and ``S_low`` the
    mean ring powers of :data:`MID_BAND` and :data:`LOW_BAND` less ``F``.

    Args:
        power: |FFT|² of the crop at its first :func:`columns` rfft2 columns (see
            :meth:`~pixel_patrol_base.imaging.stencil.CropSpectrum.power`).
        shape: (rows, cols) of the crop.

    Returns:
        The score; :data:`FLOOR` when ``S_mid ≤ 0``; ``None`` when ``S_low ≤ 0``, a band
        has no ring, or the crop is under :data:`MIN_SIDE` on a side.
    """
    rows, cols = shape
    if rows < MIN_SIDE or cols < MIN_SIDE:
        return None
    bands = _bands(rows, cols)
    values = np.ascontiguousarray(power).ravel()[bands.positions] * bands.weights
    sums = np.bincount(bands.ring, weights=values, minlength=bands.norm.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        rings = sums / bands.norm
    if not (bands.low.size and bands.mid.size and bands.noise.size):
        return None
    floor = float(np.median(rings[bands.noise]))
    low = float(rings[bands.low].mean()) - floor
    mid = float(rings[bands.mid].mean()) - floor
    if not (math.isfinite(low) and math.isfinite(mid)) or low <= 0:
        return None
    if mid <= 0:
        return FLOOR
    return min(0.0, max(FLOOR, math.log10(mid / low)))
