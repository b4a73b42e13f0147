"""Perceptual hashes and signatures of a plane's block means, and how to compare them.

Belongs here: turning a 32×32 grid of block means (from
:func:`~pixel_patrol_base.imaging.kernels.pooling.block_sums`) into the normalised grid,
deciding whether it holds any signal above the noise, the 64-bit DCT pHash and the
16×16 uint8 signature of ``raster-hash``, and the two comparisons that pair them
(:func:`hamming`, :func:`signature_correlation`). Not here: the tiles and the processor
(:mod:`pixel_patrol_base.processors.hashes`), the search for pairs (the merge).

The definitions (the column descriptions of ``raster-hash`` repeat them):

* **Normalised grid**: the block means ``G`` clipped to ``[p1, p99.9]`` of the 1,024
  means (numpy linear percentiles) and mapped to ``[0, 1]``.
* **Signal**: ``p99.9 − p1`` of the means above :data:`SIGNAL_SIGMAS` times the noise
  of one block mean, ``σ / √n`` (``σ`` the plane's noise, ``n`` the smallest block's
  pixel count); for integer data ``σ`` is at least the quantisation noise 1/√12.
* **pHash**: the orthonormal 2D DCT-II of the normalised 32×32 grid; its top-left 8×8
  coefficients, row-major, give the 64 bits, most significant first: bit = coefficient
  > the median of the 63 coefficients other than the DC one (as imagededup does; the DC
  bit is therefore nearly always 1). Stored as the signed int64 with the same bits.
* **Signature**: the mean of each 2×2 group of the normalised grid (16×16), times 255,
  rounded to uint8: 256 bytes, row-major.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from pixel_patrol_base.imaging.stats import lerp, percentile_plan
from pixel_patrol_base.imaging.types import FloatArray, IntArray

GRID = 32
"""Side of the block grid a plane is reduced to."""
HASH_SIDE = 8
"""Side of the block of low DCT frequencies the 64 hash bits come from."""
SIGNATURE_SIDE = 16
"""Side of the signature."""
SIGNAL_SIGMAS = 10.0
"""How many noise σ of a block mean ``p99.9 − p1`` of the means must exceed."""
LOW_Q, HIGH_Q = 1.0, 99.9
INT_NOISE_FLOOR = 1.0 / math.sqrt(12.0)
"""Quantisation noise of integer data, in ADU: the least σ an integer plane has."""


def block_means(sums: FloatArray, counts: IntArray) -> FloatArray | None:
    """Mean per grid cell, ``None`` when a cell has no finite pixel (a plane under 32 px
    on a side, or too many non-finite values)."""
    if not counts.all():
        return None
    means: FloatArray = sums / counts
    return means


def signal_grid(
    means: FloatArray, counts: IntArray, sigma: float | None, integer: bool
) -> FloatArray | None:
    """The normalised grid of the block means, or ``None`` when it holds no signal.

    Args:
        means: The grid of block means.
        counts: Pixels per block.
        sigma: Noise σ of the plane's pixels (``None``: unknown, taken as 0).
        integer: Whether the pixels are integers (``σ`` is then at least 1/√12).

    Returns:
        The means clipped to ``[p1, p99.9]`` and mapped to ``[0, 1]`` when ``p99.9 − p1``
        exceeds :data:`SIGNAL_SIGMAS` noise σ of a block mean, else ``None``.
    """
    low, high = _percentiles(means)
    noise = max(sigma or 0.0, INT_NOISE_FLOOR if integer else 0.0)
    if not high - low > SIGNAL_SIGMAS * noise / math.sqrt(float(counts.min())):
        return None
    out: FloatArray = np.clip((means - low) / (high - low), 0.0, 1.0)
    return out


def _percentiles(values: FloatArray) -> tuple[float, float]:
    """p1 and p99.9 (numpy's linear method) of the values, from one sort."""
    ordered = np.sort(values, axis=None)
    out = []
    for q in (LOW_Q, HIGH_Q):
        below, above, weight = percentile_plan(ordered.size, q)
        out.append(lerp(float(ordered[below]), float(ordered[above]), weight))
    return out[0], out[1]


@lru_cache(maxsize=1)
def _dct_rows() -> FloatArray:
    """The first :data:`HASH_SIDE` rows of the orthonormal DCT-II matrix of size GRID."""
    k = np.arange(HASH_SIDE, dtype=np.float64)[:, None]
    n = np.arange(GRID, dtype=np.float64)[None, :]
    rows = np.cos(math.pi * (2.0 * n + 1.0) * k / (2.0 * GRID)) * math.sqrt(2.0 / GRID)
    rows[0] /= math.sqrt(2.0)
    rows.flags.writeable = False
    return rows


def phash(grid: FloatArray) -> int:
    """The 64-bit DCT pHash of a normalised 32×32 grid, as a signed int64 value."""
    rows = _dct_rows()
    coefficients = (rows @ grid @ rows.T).ravel()
    ac = np.sort(coefficients[1:])
    median = float(ac[ac.size // 2])  # 63 values: the middle one
    bits = np.packbits(coefficients > median)
    return int.from_bytes(bits.tobytes(), "big", signed=True)


def signature(grid: FloatArray) -> bytes:
    """The 16×16 uint8 signature of a normalised 32×32 grid (256 bytes, row-major)."""
    step = GRID // SIGNATURE_SIDE
    pooled = grid.reshape(SIGNATURE_SIDE, step, SIGNATURE_SIDE, step).mean(axis=(1, 3))
    return bytes(np.rint(pooled * 255.0).astype(np.uint8))


def hamming(a: int, b: int) -> int:
    """Number of bits in which two 64-bit hashes (signed or not) differ."""
    return ((a ^ b) & ((1 << 64) - 1)).bit_count()


def signature_correlation(a: bytes, b: bytes) -> float | None:
    """Pearson correlation of two signatures; ``None`` when either is constant."""
    x = np.frombuffer(a, dtype=np.uint8).astype(np.float64)
    y = np.frombuffer(b, dtype=np.uint8).astype(np.float64)
    x -= x.mean()
    y -= y.mean()
    norm = math.sqrt(float(x @ x) * float(y @ y))
    return float(x @ y) / norm if norm > 0 else None
