"""Plain-NumPy reference values of every metric column, written from the column descriptions.

``pixel-patrol schema`` prints the formula of each column; each function here follows
that text on a whole array, with nothing imported from the package under test. A row's
pixels are cut from the array by its ``dim_*`` and ``size_*`` fields
(:func:`row_pixels`), so every obs_level row, level 0 of a stack included, is computed
directly from its own pixels rather than by merging slices.
"""

from __future__ import annotations

import io
import itertools
import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

PLANE_METRICS = (
    "laplacian_variance",
    "michelson_contrast",
    "mscn_variance",
    "texture_heterogeneity",
    "spectral_slope",
    "bright_clipping_fraction",
    "dark_clipping_fraction",
    "blocking_index",
    "ringing_index",
)
EXACT = frozenset(
    {"finite_pixel_count", "histogram_nan_count", "num_pixels", "min_intensity", "max_intensity"}
)
"""Columns compared for equality (counts, and extremes that are stored pixel values)."""


def row_pixels(data: np.ndarray, dim_order: str, row: dict[str, Any]) -> np.ndarray:
    """The pixels of ``row``: its ``dim_<axis>`` index (or the whole axis where null)."""
    index: list[slice] = []
    for axis in dim_order:
        start = row.get(f"dim_{axis.lower()}")
        if start is None:
            index.append(slice(None))
        else:
            index.append(slice(start, start + row[f"size_{axis.lower()}"]))
    return data[tuple(index)]


def _finite(values: np.ndarray) -> np.ndarray:
    flat = values.astype(np.float64).reshape(-1)
    return flat[np.isfinite(flat)]


def basic(pixels: np.ndarray) -> dict[str, Any]:
    """raster-basic: min, max, mean, population std, finite count, non-finite share."""
    finite = _finite(pixels)
    n = finite.size
    out: dict[str, Any] = {
        "finite_pixel_count": n,
        "nan_fraction": (pixels.size - n) / pixels.size,
        "num_pixels": pixels.size,
    }
    if n == 0:
        return out | dict.fromkeys(
            ("min_intensity", "max_intensity", "mean_intensity", "std_intensity")
        )
    mean = math.fsum(finite) / n
    return out | {
        "min_intensity": float(finite.min()),
        "max_intensity": float(finite.max()),
        "mean_intensity": mean,
        "std_intensity": math.sqrt(math.fsum((finite - mean) ** 2) / n),
    }


def histogram_range(finite: np.ndarray, dtype: np.dtype[Any]) -> tuple[float, float]:
    """(histogram_min, histogram_max): the finite range, or one-level integer bins."""
    low, high = float(finite.min()), float(finite.max())
    if dtype.kind in "iu" and high - low <= 255:
        top = int(np.iinfo(dtype).max)
        lo = min(int(low), top - 255)
        return float(lo), float(lo + 256)
    return low, high


def _bins(values: np.ndarray, low: float, high: float, n: int) -> np.ndarray:
    if high == low:
        return np.zeros(values.size, np.int64)
    index = np.floor((values - low) / ((high - low) / n))
    return np.clip(index, 0, n - 1).astype(np.int64)


def histogram(pixels: np.ndarray) -> dict[str, Any]:
    """raster-histogram of the row's pixels, binned directly."""
    finite = _finite(pixels)
    nan_count = pixels.size - finite.size
    if finite.size == 0:
        return {
            "histogram_counts": None,
            "histogram_min": None,
            "histogram_max": None,
            "histogram_nan_count": nan_count,
        }
    low, high = histogram_range(finite, pixels.dtype)
    return {
        "histogram_counts": np.bincount(_bins(finite, low, high, 256), minlength=256).tolist(),
        "histogram_min": low,
        "histogram_max": high,
        "histogram_nan_count": nan_count,
    }


def merged_float_histogram(slices: list[np.ndarray], low: float, high: float) -> list[int]:
    """The documented merge for floats: each slice's 4096 fine bins over its own range,
    counted at their centres and re-binned over the row's range [low, high]."""
    counts = np.zeros(256, np.int64)
    for block in slices:
        finite = _finite(block)
        if finite.size == 0:
            continue
        s_low, s_high = float(finite.min()), float(finite.max())
        fine = np.bincount(_bins(finite, s_low, s_high, 4096), minlength=4096)
        width = (s_high - s_low) / 4096
        centres = s_low + (np.arange(4096) + 0.5) * width
        np.add.at(counts, _bins(centres, low, high, 256), fine)
    return counts.tolist()


def planes(pixels: np.ndarray, dim_order: str) -> list[np.ndarray]:
    """Every 2D (Y, X) plane of ``pixels``, one per index of the other axes."""
    lead = [dim_order.index(a) for a in dim_order if a not in "YX"]
    arranged = np.transpose(pixels, [*lead, dim_order.index("Y"), dim_order.index("X")])
    return [arranged[i] for i in itertools.product(*map(range, arranged.shape[:-2]))]


def _variance(values: np.ndarray) -> float | None:
    values = values[np.isfinite(values)]
    return float(values.var()) if values.size else None


def _neighbourhood(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population std of every interior pixel's 3×3 neighbourhood."""
    windows = sliding_window_view(p, (3, 3)).reshape(p.shape[0] - 2, p.shape[1] - 2, 9)
    return windows.mean(axis=-1), windows.std(axis=-1)


def _ring_of(rows: int, cols: int) -> np.ndarray:
    """Ring index of each FFT frequency: radius in units of 1/max(h, w), rounded half up.

    Exact in integers: with r·size = sqrt(q)·size / (rows·cols), q = ky²cols² + kx²rows²,
    the ring j satisfies (2j − 1)² ≤ 4q·size² / (rows·cols)² < (2j + 1)².
    """
    size = max(rows, cols)
    ky = np.fft.fftfreq(rows, 1 / rows).round().astype(np.int64)[:, None]
    kx = np.fft.fftfreq(cols, 1 / cols).round().astype(np.int64)[None, :]
    q = ky**2 * cols**2 + kx**2 * rows**2
    scaled = (4 * q * size**2) // (rows * cols) ** 2
    root = np.floor(np.sqrt(scaled.astype(np.float64))).astype(np.int64)
    root -= root**2 > scaled
    root += (root + 1) ** 2 <= scaled
    return (root + 1) // 2


def spectral_slope(plane: np.ndarray) -> float | None:
    """Slope of ln(ring-mean power) against ln(frequency) on the Hann-windowed centre crop."""
    rows, cols = plane.shape
    h, w = min(rows, 512), min(cols, 512)
    top, left = (rows - h) // 2, (cols - w) // 2
    crop = plane[top : top + h, left : left + w].astype(np.float64)
    ok = np.isfinite(crop)
    if not ok.any():
        return None
    crop = np.where(ok, crop, crop[ok].mean())
    crop = (crop - crop.mean()) * np.outer(np.hanning(h), np.hanning(w))
    power = np.abs(np.fft.fft2(crop)) ** 2
    ring = _ring_of(h, w)
    size = max(h, w)
    sums = np.bincount(ring.ravel(), power.ravel())
    counts = np.bincount(ring.ravel())
    xs, ys = [], []
    for j in np.flatnonzero(counts):
        freq = j / size
        if 0.025 <= freq <= 0.2 and sums[j] > 0:
            xs.append(math.log(freq))
            ys.append(math.log(sums[j] / counts[j]))
    if len(xs) < 2:
        return None
    x, y = np.array(xs), np.array(ys)
    return float(((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum())


def _blocking(p: np.ndarray) -> float | None:
    jx = np.abs(np.diff(p, axis=1))  # pair (x, x + 1): boundary when x + 1 is a multiple of 8
    jy = np.abs(np.diff(p, axis=0))
    bx = (np.arange(1, p.shape[1]) % 8) == 0
    by = (np.arange(1, p.shape[0]) % 8) == 0
    across = np.concatenate([jx[:, bx].ravel(), jy[by, :].ravel()])
    other = np.concatenate([jx[:, ~bx].ravel(), jy[~by, :].ravel()])
    across, other = across[np.isfinite(across)], other[np.isfinite(other)]
    if not across.size or not other.size or other.mean() == 0:
        return None
    return float(across.mean() / other.mean())


def _ringing(p: np.ndarray) -> float | None:
    window = sliding_window_view(p, (3, 3))
    sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float64)
    gx = np.einsum("ijkl,kl->ij", window, sobel_x)
    gy = np.einsum("ijkl,kl->ij", window, sobel_x.T)
    magnitude = np.sqrt(gx**2 + gy**2)
    valid = np.isfinite(magnitude)
    if not valid.any():
        return None
    strong = valid & (magnitude > np.percentile(magnitude[valid], 90))
    padded = np.pad(strong, 1)
    near = sliding_window_view(padded, (3, 3)).any(axis=(2, 3))
    mean, _ = _neighbourhood(p)
    residual = p[1:-1, 1:-1] - mean
    ok = np.isfinite(residual)
    edge, rest = _variance(residual[near & ok]), _variance(residual[~near & ok])
    if edge is None or rest is None or rest == 0:
        return None
    return edge / rest


def plane_metrics(plane: np.ndarray) -> dict[str, Any]:
    """raster-quality and raster-compression of one 2D plane."""
    if plane.shape[0] < 3 or plane.shape[1] < 3:
        return dict.fromkeys(PLANE_METRICS)
    p = plane.astype(np.float64)
    finite = p[np.isfinite(p)]
    out: dict[str, Any] = dict.fromkeys(PLANE_METRICS)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        laplacian = p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * p[1:-1, 1:-1]
        out["laplacian_variance"] = _variance(laplacian)
        if finite.size:
            p1, p99 = np.percentile(finite, [1, 99])
            out["michelson_contrast"] = float((p99 - p1) / (p99 + p1)) if p99 + p1 else None
            mean, std = _neighbourhood(p)
            c = 1e-3 * (finite.max() - finite.min())
            out["mscn_variance"] = _variance((p[1:-1, 1:-1] - mean) / (std + c))
            local = std[np.isfinite(std)]
            if local.size and local.mean() != 0:
                out["texture_heterogeneity"] = float(local.std() / local.mean())
        out["spectral_slope"] = spectral_slope(p)
        out["blocking_index"] = _blocking(p)
        out["ringing_index"] = _ringing(p)
    if plane.dtype.kind in "iu":
        info = np.iinfo(plane.dtype)
        out["bright_clipping_fraction"] = float(np.count_nonzero(plane == info.max) / plane.size)
        out["dark_clipping_fraction"] = float(np.count_nonzero(plane == info.min) / plane.size)
    return out


def plane_means(per_plane: list[dict[str, Any]], weight: int) -> dict[str, Any]:
    """Each metric's mean over the planes where it is defined, weighted by pixel count."""
    out: dict[str, Any] = {}
    for name in PLANE_METRICS:
        values = [m[name] for m in per_plane if m[name] is not None]
        out[name] = (
            math.fsum(v * weight for v in values) / (weight * len(values)) if values else None
        )
    return out


def thumbnail_range(overview: np.ndarray, dim_order: str) -> tuple[float, float]:
    """thumbnail_norm_min/max: 0.5th and 99.5th percentiles of what the thumbnail draws
    (middle T, max over Z, the first 6 channels), or 0/255 for 8-bit RGB."""
    if "S" in dim_order and overview.dtype == np.uint8:
        return 0.0, 255.0
    data = overview.astype(np.float64)
    order = dim_order
    if "T" in order:
        data = np.take(data, data.shape[order.index("T")] // 2, axis=order.index("T"))
        order = order.replace("T", "")
    if "Z" in order:
        data = np.fmax.reduce(data, axis=order.index("Z"))
        order = order.replace("Z", "")
    if "C" in order:
        data = np.take(data, range(min(6, data.shape[order.index("C")])), axis=order.index("C"))
    finite = data[np.isfinite(data)]
    low, high = np.percentile(finite, [0.5, 99.5])
    return float(low), float(high)


def png_size(png: bytes) -> tuple[int, int, str]:
    """(width, height, colour mode) of a PNG, decoded with imageio."""
    import imageio.v3 as iio

    image = np.asarray(iio.imread(io.BytesIO(png)))
    mode = "grey" if image.ndim == 2 else f"{image.shape[2]} channels"
    return image.shape[1], image.shape[0], mode
