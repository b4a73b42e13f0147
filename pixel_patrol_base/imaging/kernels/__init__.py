"""Compiled (numba) sweeps over a work array, each fusing many numpy passes into one.

Belongs here: loops that visit every position of a rectangle once and return sums or a
field. Not here: which metric uses which sum (the processors), moments and the FFT
(:mod:`~pixel_patrol_base.imaging.stencil`), the selection itself
(:mod:`~pixel_patrol_base.imaging.order`).

Modules:
    lazy: :class:`~.lazy.Kernel`, the lazy dispatcher that compiles a loop at its first
        call, and the numba options of every kernel.
    quality: the 3×3 filter sums of ``raster-quality`` and the windowed crop of its
        spectral slope.
    compression: the block jumps, squared Sobel magnitudes and ringing sums of
        ``raster-compression``.
    selection: value counts of small integers and the counting and gathering step of
        exact selection.
    qc: the Immerkaer noise residuals of ``raster-qc`` (counted or gathered).
    pooling: the block sums of ``raster-hash`` over a fixed grid.

This package re-exports the public kernels, so callers import them from here.

A *work array* is 2D and C-contiguous: int32 for integers of up to 16 bits, where every
filter value is an exact integer, or float64 for everything else. No other dtype reaches
a kernel, so numba compiles each at most twice; the machine code is cached on disk. A
kernel gets the rectangle (y0, y1, x0, x1) of positions to visit, whose 3×3
neighbourhoods must lie inside the array, so the same kernel serves a whole plane and a
tile of it with its halo. A float position whose filter value is not finite (a
non-finite pixel nearby, or an overflow) is skipped, as ``isfinite`` would skip it.

Loops index row views from 0 up (numba then needs no check for negative indices, and
indexing is faster than iterating over an array) and keep branches out of their
bodies, so that they vectorise. Kernels never start threads: one job, one core.

numba is imported, and a kernel compiled or loaded from the cache, at the first call of
that kernel (see :mod:`.lazy`): importing this package, which every processor plugin
does, costs nothing.
"""

from __future__ import annotations

from pixel_patrol_base.imaging.kernels.compression import jump_sums, ringing_sums, sobel_field
from pixel_patrol_base.imaging.kernels.pooling import block_sums
from pixel_patrol_base.imaging.kernels.qc import residual_counts, residual_values
from pixel_patrol_base.imaging.kernels.quality import quality_sums, windowed
from pixel_patrol_base.imaging.kernels.selection import Split, count_values, split
from pixel_patrol_base.imaging.types import Sums, WorkArray

__all__ = [
    "Split",
    "Sums",
    "WorkArray",
    "block_sums",
    "count_values",
    "jump_sums",
    "quality_sums",
    "residual_counts",
    "residual_values",
    "ringing_sums",
    "sobel_field",
    "split",
    "windowed",
]
