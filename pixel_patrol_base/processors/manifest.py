"""Metadata of the built-in processors: ids, versions and the columns each one fills.

Each processor's output columns are declared here, once, with the formula in each
description, so that the column catalog and ``pixel-patrol schema`` can list them
without importing the processors (which pull in numpy and numba). The entry points in
``pyproject.toml`` name the ``*_METADATA`` objects; each processor module takes its
``ID``, ``VERSION`` and ``COLUMNS`` from its metadata, so the two cannot disagree.

This module imports only the catalog's declarations and the metadata type.
"""

from __future__ import annotations

from pixel_patrol_base.plugins.metadata import ProcessorMetadata
from pixel_patrol_base.table.catalog import COUNT, FRACTION, Aggregation, Bounds, Column, Levels

_PER_PLANE = (
    " Computed per 2D plane (null for planes under 3×3) and aggregated as the mean "
    "weighted by the plane's pixel count."
)

# ---------------------------------------------------------------------- raster-basic

_BASIC_ID = "raster-basic"

BASIC_COLUMNS: tuple[Column, ...] = (
    Column(
        "min_intensity",
        "float64",
        "Smallest finite pixel value of the row (float64); null when the row has no finite "
        "pixel. Aggregates as the min of the slices' minima.",
        producer=_BASIC_ID,
        aggregation=Aggregation.MIN,
        not_above="mean_intensity",
    ),
    Column(
        "max_intensity",
        "float64",
        "Largest finite pixel value of the row (float64); null when the row has no finite "
        "pixel. Aggregates as the max of the slices' maxima.",
        producer=_BASIC_ID,
        aggregation=Aggregation.MAX,
    ),
    Column(
        "mean_intensity",
        "float64",
        "Mean of the n finite pixel values v of the row, in float64: Σv / n; null when n = 0. "
        "Aggregates as the mean of the slices weighted by finite_pixel_count, which equals "
        "the mean of all the row's finite pixels.",
        producer=_BASIC_ID,
        aggregation=Aggregation.MEAN,
        not_above="max_intensity",
    ),
    Column(
        "std_intensity",
        "float64",
        "Population standard deviation (ddof 0) of the finite pixel values: "
        "sqrt(Σ(v − mean)² / n); null when n = 0. Aggregates as the pooled std (Chan's "
        "parallel formula: M2 = ΣM2ᵢ + Σnᵢ(meanᵢ − mean)²), which equals the std of all "
        "the row's finite pixels.",
        producer=_BASIC_ID,
        aggregation=Aggregation.POOLED_STD,
        bounds=COUNT,
    ),
    Column(
        "finite_pixel_count",
        "int64",
        "Number n of finite pixel values (samples) in the row; NaN and ±inf are left out "
        "of every intensity statistic. Aggregates as a sum.",
        producer=_BASIC_ID,
        aggregation=Aggregation.SUM,
        bounds=COUNT,
    ),
    Column(
        "nan_fraction",
        "float64",
        "Share of non-finite values (NaN or ±inf): (num_pixels − finite_pixel_count) / "
        "num_pixels; 0 for integer images. Aggregates as the mean weighted by num_pixels.",
        producer=_BASIC_ID,
        aggregation=Aggregation.MEAN,
        bounds=FRACTION,
    ),
)

BASIC_METADATA = ProcessorMetadata(
    id=_BASIC_ID,
    version="1.0.0",
    columns=BASIC_COLUMNS,
    target="pixel_patrol_base.processors.basic:PROCESSOR",
)

# ---------------------------------------------------------------------- raster-histogram

_HISTOGRAM_ID = "raster-histogram"

HISTOGRAM_COLUMNS: tuple[Column, ...] = (
    Column(
        "histogram_counts",
        "list<int64>",
        "256 counts of the row's finite pixels. Bin of value v: floor((v − histogram_min) / "
        "((histogram_max − histogram_min) / 256)), clipped to 0..255 (all in bin 0 when "
        "histogram_max = histogram_min). Integers spanning fewer than 256 levels "
        "(max − min ≤ 255) get one-level bins [lo + i, lo + i + 1) with lo = min moved down "
        "as far as needed to keep lo + 255 inside the dtype range (uint8 always bins over "
        "[0, 256)). Integers of up to 16 bits are exact at every level. For other types a "
        "row that merges slices re-bins each slice's 4096 fine bins (16 per bin) by their "
        "centre, so a pixel within 1/32 of a slice bin of an edge may land one bin off.",
        producer=_HISTOGRAM_ID,
        aggregation=Aggregation.HISTOGRAM,
        bounds=COUNT,
    ),
    Column(
        "histogram_min",
        "float64",
        "Lower edge of bin 0: the row's finite minimum, or lo for one-level integer bins.",
        producer=_HISTOGRAM_ID,
        aggregation=Aggregation.MIN,
        not_above="histogram_max",
    ),
    Column(
        "histogram_max",
        "float64",
        "Upper edge of bin 255: the row's finite maximum, or lo + 256 for one-level "
        "integer bins. Bin width = (histogram_max − histogram_min) / 256.",
        producer=_HISTOGRAM_ID,
        aggregation=Aggregation.MAX,
    ),
    Column(
        "histogram_nan_count",
        "int64",
        "Number of non-finite values (NaN or ±inf) left out of histogram_counts.",
        producer=_HISTOGRAM_ID,
        aggregation=Aggregation.SUM,
        bounds=COUNT,
    ),
)

HISTOGRAM_METADATA = ProcessorMetadata(
    id=_HISTOGRAM_ID,
    version="1.0.0",
    columns=HISTOGRAM_COLUMNS,
    target="pixel_patrol_base.processors.histogram:PROCESSOR",
)

# ---------------------------------------------------------------------- thumbnail

_THUMBNAIL_ID = "thumbnail"

THUMBNAIL_COLUMNS: tuple[Column, ...] = (
    Column(
        "thumbnail",
        "binary",
        "PNG of the image, longest side thumbnail_size (64 px by default): middle T (and "
        "the middle index of every further axis, e.g. H, E or M), max projection over Z, "
        "up to 6 channels in false colour (red, green, blue, cyan, "
        "magenta, yellow; one channel in grey), RGB samples as colour. Pixels are sampled "
        "with a stride (or read from a lower pyramid level), linearly stretched from "
        "thumbnail_norm_min (black) to thumbnail_norm_max (full), then area-averaged.",
        producer=_THUMBNAIL_ID,
        levels=Levels.IMAGE,
    ),
    Column(
        "thumbnail_norm_min",
        "float64",
        "0.5th percentile of the finite values drawn in the thumbnail (all channels "
        "together): the value shown black. 0 for 8-bit RGB, which is drawn as stored.",
        producer=_THUMBNAIL_ID,
        levels=Levels.IMAGE,
        not_above="thumbnail_norm_max",
    ),
    Column(
        "thumbnail_norm_max",
        "float64",
        "99.5th percentile of the finite values drawn in the thumbnail: the value shown "
        "at full intensity. 255 for 8-bit RGB, which is drawn as stored.",
        producer=_THUMBNAIL_ID,
        levels=Levels.IMAGE,
    ),
)

THUMBNAIL_METADATA = ProcessorMetadata(
    id=_THUMBNAIL_ID,
    version="1.0.0",
    columns=THUMBNAIL_COLUMNS,
    target="pixel_patrol_base.processors.thumbnail:PROCESSOR",
)

# ---------------------------------------------------------------------- raster-quality

_QUALITY_ID = "raster-quality"

_QUALITY_SPECS = (
    (
        "laplacian_variance",
        "Variance (ddof 0) of the 4-neighbour discrete Laplacian L = I(y−1,x) + I(y+1,x) + "
        "I(y,x−1) + I(y,x+1) − 4·I(y,x) over the valid interior. Higher means sharper.",
    ),
    (
        "michelson_contrast",
        "(p99 − p1) / (p99 + p1) with p1, p99 the 1st and 99th percentiles (numpy linear "
        "method) of the plane's finite pixels; null when p99 + p1 = 0.",
    ),
    (
        "mscn_variance",
        "Variance of the mean-subtracted contrast-normalised image (I − μ) / (σ + C) over the "
        "valid interior, with μ and σ the mean and population std of the 3×3 neighbourhood "
        "and C = 1e-3·(max − min) of the plane's finite pixels.",
    ),
    (
        "texture_heterogeneity",
        "std / mean (population std) of the local 3×3 standard deviation σ over the valid "
        "interior; null when that mean is 0.",
    ),
    (
        "spectral_slope",
        "Least-squares slope of ln(radial power) against ln(spatial frequency) on the "
        "centre crop of at most 512×512 (non-finite pixels set to the crop's mean, mean "
        "removed, 2D Hann window); power |FFT|² averaged over rings of width 1/max(h, w) "
        "cycles/pixel whose frequency lies between 5% and 40% of Nyquist (0.025–0.2). More "
        "negative means blurrier.",
    ),
    (
        "bright_clipping_fraction",
        "Fraction of the plane's pixels equal to the dtype's maximum (null for floats).",
    ),
    (
        "dark_clipping_fraction",
        "Fraction of the plane's pixels equal to the dtype's minimum (null for floats).",
    ),
)
_QUALITY_BOUNDS = {
    "laplacian_variance": COUNT,
    "mscn_variance": COUNT,
    "texture_heterogeneity": COUNT,
    "bright_clipping_fraction": FRACTION,
    "dark_clipping_fraction": FRACTION,
}
QUALITY_COLUMNS: tuple[Column, ...] = tuple(
    Column(
        name,
        "float64",
        text + _PER_PLANE,
        producer=_QUALITY_ID,
        aggregation=Aggregation.MEAN,
        bounds=_QUALITY_BOUNDS.get(name),
    )
    for name, text in _QUALITY_SPECS
)

QUALITY_METADATA = ProcessorMetadata(
    id=_QUALITY_ID,
    version="1.0.0",
    columns=QUALITY_COLUMNS,
    target="pixel_patrol_base.processors.quality:PROCESSOR",
)

# ---------------------------------------------------------------------- raster-compression

_COMPRESSION_ID = "raster-compression"

COMPRESSION_COLUMNS: tuple[Column, ...] = (
    Column(
        "blocking_index",
        "float64",
        "Mean absolute jump |I(p) − I(q)| between horizontally or vertically adjacent "
        "pixels p, q that lie on either side of an 8-pixel block boundary (q's column or "
        "row, counted from the image origin, a multiple of 8), divided by the mean "
        "absolute jump of all other adjacent pairs; pairs with a non-finite pixel are "
        "left out; null without both kinds of pair or when the divisor is 0. 1 means no "
        "blocking." + _PER_PLANE,
        producer=_COMPRESSION_ID,
        aggregation=Aggregation.MEAN,
        bounds=COUNT,
    ),
    Column(
        "ringing_index",
        "float64",
        "Variance of the 3×3 high-pass residual R = I − μ₃ₓ₃ near strong edges divided by "
        "its variance elsewhere, over the valid interior (whole 3×3 neighbourhood finite). "
        "Strong edges: Sobel magnitude sqrt(Gx² + Gy²) above its 90th percentile (numpy "
        "linear method) over the plane's interior; near: within the 3×3 neighbourhood of "
        "a strong edge. Null when either set is empty or the divisor is 0." + _PER_PLANE,
        producer=_COMPRESSION_ID,
        aggregation=Aggregation.MEAN,
        bounds=COUNT,
    ),
)

COMPRESSION_METADATA = ProcessorMetadata(
    id=_COMPRESSION_ID,
    version="1.0.0",
    columns=COMPRESSION_COLUMNS,
    target="pixel_patrol_base.processors.compression:PROCESSOR",
)

# ---------------------------------------------------------------------- raster-qc

_QC_ID = "raster-qc"

_QC_PER_PLANE = (
    " Computed per 2D plane (null for planes under 3×3 or without a finite pixel) and "
    "aggregated as the mean weighted by the plane's pixel count."
)
_QC_FLOAT_SPECS = (
    (
        "background_level",
        "Background estimate, in ADU: the 5th percentile p5 (numpy linear method) of the "
        "plane's finite pixels. Follows gain and offset (a·I + b gives a·p5 + b) by meaning.",
    ),
    (
        "noise_sigma",
        "Robust noise σ, in ADU: median(|r|) / (6 · 0.67449), the median absolute Immerkaer "
        "(1996) residual r = N ∗ I, N = [[1,−2,1],[−2,4,−2],[1,−2,1]] (‖N‖₂ = 6), over the "
        "valid interior positions (whole 3×3 neighbourhood inside the plane, r finite) at "
        "even plane rows and columns (a quarter of the positions, for speed); equals σ for "
        "white Gaussian noise and ignores edges and texture as long as they cover under "
        "half the plane. Follows the gain (a·I + b gives a·σ), not the offset. 0 when more "
        "than half the residuals are 0 (e.g. integer data with σ ≲ 0.3 ADU).",
    ),
    (
        "snr",
        "Peak signal-to-noise ratio: (p99.9 − background_level) / noise_sigma, with p99.9 "
        "the 99.9th percentile (numpy linear method) of the finite pixels; null when "
        "noise_sigma is 0. Invariant under a·I + b (a > 0).",
    ),
    (
        "signal_fraction",
        "Share of the finite pixels above background_level + 6·noise_sigma (about 4.4 σ "
        "above the mean of a Gaussian background, since p5 lies 1.64 σ below it); null "
        "when noise_sigma is 0. Invariant under a·I + b (a > 0).",
    ),
    (
        "focus_score",
        "log10(S_mid / S_low), clamped to [−6, 0]: a band ratio of the radial power "
        "spectrum with the noise floor subtracted. Spectrum: the centre crop of at most "
        "512×512 (non-finite pixels set to its mean, mean removed, 2D Hann window), |FFT|² "
        "averaged over rings of width 1/max(h, w) cycles/pixel (as spectral_slope), each "
        "over its frequencies with |fx| < 0.25 (all of the low and mid rings; the noise "
        "annulus near the fy axis, white noise being isotropic). "
        "F = median ring power over frequencies f ∈ [0.40, 0.50) (white-noise floor); "
        "S_mid = mean ring power over f ∈ [0.08, 0.25) − F; S_low = mean over f ∈ "
        "[0.01, 0.05) − F. −6 when S_mid ≤ 0 (detail below the noise: blurry); null when "
        "S_low ≤ 0 (no content above the noise), or the crop is under 32 px on a side. "
        "Higher is sharper; invariant under a·I + b and, the floor being subtracted, "
        "nearly independent of the photon count.",
    ),
    (
        "saturated_fraction",
        "Share of the plane's pixels at or above the saturation level (see "
        "saturation_level); null for floats.",
    ),
    (
        "black_clipped_fraction",
        "Share of the plane's pixels at or below the dtype's minimum (0 for unsigned "
        "integers); null for floats.",
    ),
    (
        "max_plateau_fraction",
        "Share of the finite pixels equal to the plane's own finite maximum (CellProfiler's "
        "PercentMaximal): about 1/N normally, a plateau when the data were clipped at a "
        "level the declared bit depth does not reveal.",
    ),
)
_QC_BOUNDS = {
    "noise_sigma": COUNT,
    "signal_fraction": FRACTION,
    "focus_score": Bounds(-6, 0),
    "saturated_fraction": FRACTION,
    "black_clipped_fraction": FRACTION,
    "max_plateau_fraction": FRACTION,
}
QC_COLUMNS: tuple[Column, ...] = (
    *(
        Column(
            name,
            "float64",
            text + _QC_PER_PLANE,
            producer=_QC_ID,
            aggregation=Aggregation.MEAN,
            bounds=_QC_BOUNDS.get(name),
        )
        for name, text in _QC_FLOAT_SPECS
    ),
    Column(
        "saturation_level",
        "float64",
        "The value counted as saturated: 2^declared_bit_depth − 1 when the loader read a "
        "declared bit depth (declared_bit_depth, from OME SignificantBits, ND2 or CZI "
        "metadata) no larger than the dtype's, else the dtype's maximum; null for floats. "
        "Aggregates as the max.",
        producer=_QC_ID,
        aggregation=Aggregation.MAX,
    ),
    Column(
        "bits_used",
        "int32",
        "Integer images: the position of the highest set bit of the plane's largest value "
        "(max.bit_length(); 12 for a 12-bit camera whose brightest pixel is 4095 or more "
        "than 2047), 0 when the maximum is ≤ 0; null for floats. Aggregates as the max.",
        producer=_QC_ID,
        aggregation=Aggregation.MAX,
        bounds=COUNT,
    ),
    Column(
        "low_zero_bits",
        "int32",
        "Integer images: how many low bits are 0 in every pixel of the plane (trailing "
        "zeros of the bitwise OR of all values; 4 for 12-bit data left-aligned in uint16); "
        "null for floats and for all-zero planes. Aggregates as the min.",
        producer=_QC_ID,
        aggregation=Aggregation.MIN,
        bounds=COUNT,
    ),
)

QC_METADATA = ProcessorMetadata(
    id=_QC_ID,
    version="1.0.0",
    columns=QC_COLUMNS,
    target="pixel_patrol_base.processors.qc_metrics:PROCESSOR",
)

# ---------------------------------------------------------------------- raster-hash

_HASH_ID = "raster-hash"

_PLANE_DIGEST = (
    "D(plane) = BLAKE3 (16-byte output) of the UTF-8 text '<dtype>;<rows>x<cols>;' "
    "followed by the plane's pixel bytes, row-major and little-endian"
)
_LEAF_PLANE = (
    "Leaf rows that hold one (Y, X) plane (obs_level ≥ 1) get the plane's value, the "
    "level-0 row the image's; null on other rows and when slice_size cuts Y or X."
)
_GRID = (
    "G = the 32×32 grid of block means of the plane's finite pixels (plane row r in grid "
    "row ⌊32·r / rows⌋, likewise columns), normalised: clipped to [p1, p99.9] of the "
    "1,024 means (numpy linear percentiles) and mapped to [0, 1]. At level 0, the mean of "
    "the G of every plane (each index along the axes but Y and X) that has signal, mapped "
    "from its own [min, max] to [0, 1] (for a single plane: its G). Null for planes under "
    "32 px on a side, with an empty block, or without signal: p99.9 − p1 of the block "
    "means not above 10·σ/√n, σ the Immerkaer noise σ of the centre crop of at most "
    "128×128 (median |N ∗ I| / (6 · 0.67449) at even crop rows and columns, as "
    "noise_sigma; at least 1/√12 for integers), n the smallest block's pixel count (so "
    "constant planes and pure noise get null; smooth illumination without objects counts "
    "as signal)."
)

HASH_COLUMNS: tuple[Column, ...] = (
    Column(
        "content_hash",
        "string",
        "Hash of the pixels, the same for the same pixels whatever the file format, "
        "compression, chunking or tiling: 32 hex digits of BLAKE3 (16-byte output) of "
        "the UTF-8 text '<dtype>;<shape>;' (numpy dtype name; the extents of the axes "
        "longer than 1, in the order T, C, Z, Y, X, S, E, H, M, V, I, R, A, P, L, Q, "
        "joined by 'x', e.g. 'uint16;3x512x512;') followed by D(plane) of every plane in "
        "the order of their indices along the axes other than Y and X (that order too), "
        "where " + _PLANE_DIGEST + ". Level 0 only; null "
        "when slice_size cuts Y or X, or when the engine cuts a plane's rows into pieces "
        "(planes wider than mb_per_task·2²⁰ / 128 pixels: 2 million at the default).",
        producer=_HASH_ID,
        levels=Levels.IMAGE,
    ),
    Column(
        "plane_hash",
        "string",
        "32 hex digits of " + _PLANE_DIGEST + ". Leaf rows that hold one (Y, X) plane "
        "(obs_level ≥ 1) only; equal values are identical planes.",
        producer=_HASH_ID,
    ),
    Column(
        "phash",
        "int64",
        "64-bit perceptual hash (pHash) of G, stored as the signed int64 of the same bits: "
        "the orthonormal 2D DCT-II of the 32×32 grid G, its top-left 8×8 coefficients "
        "row-major, bit (most significant first) = coefficient > the median of the 63 "
        "coefficients other than DC (the DC bit is then nearly always 1). Near duplicates "
        "differ in few bits (Hamming distance). " + _GRID + " " + _LEAF_PLANE,
        producer=_HASH_ID,
    ),
    Column(
        "signature",
        "binary",
        "256 bytes to confirm a near-duplicate pair by Pearson correlation: the mean of "
        "each 2×2 group of G (16×16, row-major) times 255, rounded to uint8. Null where "
        "phash is null. " + _LEAF_PLANE,
        producer=_HASH_ID,
    ),
    Column(
        "plane_noise_distance",
        "float64",
        "How far a plane is from the previous plane of its stack (index − 1 along Z, or "
        "along T when Z has one plane; all other indices equal), in units of the noise: "
        "std(P − P_prev) / (√2 · σ_noise) (population std over the finite differences), "
        "on the centre crops of at most 128×128 of both planes, σ_noise the mean of the "
        "two crops' Immerkaer σ (as above; at least 1/√12 for integers). About 1 or more "
        "for independent exposures, 0 for an exact copy; below 0.5 the plane is closer "
        "to its predecessor than noise allows. Leaf rows holding one plane that has a "
        "predecessor only; null when a σ is 0 or unknown, and for stacks whose crops "
        "waiting for their successor exceed 64 MiB (more than 2,048 uint16 stacks "
        "interleaved in storage order).",
        producer=_HASH_ID,
    ),
)

HASH_METADATA = ProcessorMetadata(
    id=_HASH_ID,
    version="1.0.0",
    columns=HASH_COLUMNS,
    target="pixel_patrol_base.processors.hashes:PROCESSOR",
)
