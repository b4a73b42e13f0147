"""The pixel engine: from one image array to its obs_level rows.

Modules:
    layout: how ``slice_size`` cuts an image into leaf blocks, and the obs_level rows.
    tiles: the 2D pieces of pixels (with halo) that processors see, and how they are read.
    stats: mergeable statistics (moments, exact integer counts, numpy-equal percentiles).
    order: exact order statistics of float values, in memory or over several passes.
    kernels: compiled (numba) one-sweep loops, per processor family: 3×3 filter sums,
        block jumps, Sobel and ringing sums, value counts and the gather step of exact
        selection; numba compiles each at its first call.
    types: the array and rectangle type aliases the modules above share.
    stencil: moments of kernel sums, the centre crop, its FFT (shared through the tile
        cache) and the spectral slope, shared by the per-plane processors.
    focus: the noise-floor-corrected band ratio of ``raster-qc``'s ``focus_score``.
    perceptual: the pHash and signature of a plane's block means (``raster-hash``), and
        the Hamming distance and signature correlation that compare them.
    engine: :func:`~pixel_patrol_base.imaging.engine.process_image`, the entry point.

Nothing here knows about files, loaders or the Snakemake pipeline.
"""
