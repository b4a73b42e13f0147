"""Independent plain-numpy definitions of every metric, for comparison with the engine.

Written straight from the formulas in the issue and the column descriptions, on whole 2D
arrays with explicit slicing and ``sliding_window_view``; nothing here imports the
package under test.
"""

from __future__ import annotations

import functools
import itertools
import math
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

SPATIAL = ("Y", "X")
QUALITY = (
    "laplacian_variance",
    "michelson_contrast",
    "mscn_variance",
    "texture_heterogeneity",
    "spectral_slope",
    "bright_clipping_fraction",
    "dark_clipping_fraction",
)
COMPRESSION = ("blocking_index", "ringing_index")


def _var(values: np.ndarray) -> float | None:
    values = values[np.isfinite(values)]
    return float(np.var(values)) if values.size else None


def basic(block: np.ndarray) -> dict[str, Any]:
    values = block.astype(np.float64).ravel()
    finite = values[np.isfinite(values)]
    out: dict[str, Any] = {
        "finite_pixel_count": int(finite.size),
        "nan_fraction": (values.size - finite.size) / values.size,
    }
    if finite.size:
        out |= {
            "min_intensity": float(finite.min()),
            "max_intensity": float(finite.max()),
            "mean_intensity": float(finite.mean()),
            "std_intensity": float(finite.std()),
        }
    else:
        out |= dict.fromkeys(("min_intensity", "max_intensity", "mean_intensity", "std_intensity"))
    return out


def histogram_edges(low: float, high: float, dtype: np.dtype[Any]) -> tuple[float, float]:
    if dtype.kind in "iu" and high - low < 256:
        info = np.iinfo(dtype)
        start = min(max(low, int(info.min)), int(info.max) - 255)
        start = max(start, int(info.min))
        return float(start), float(start + 256)
    return low, high


def histogram(block: np.ndarray) -> dict[str, Any]:
    values = block.astype(np.float64).ravel()
    finite = values[np.isfinite(values)]
    nonfinite = int(values.size - finite.size)
    if finite.size == 0:
        return {
            "histogram_counts": None,
            "histogram_min": None,
            "histogram_max": None,
            "histogram_nan_count": nonfinite,
        }
    low, high = histogram_edges(float(finite.min()), float(finite.max()), block.dtype)
    width = (high - low) / 256
    if width > 0:
        index = np.clip(np.floor((finite - low) / width), 0, 255).astype(np.int64)
    else:
        index = np.zeros(finite.size, np.int64)
    return {
        "histogram_counts": np.bincount(index, minlength=256).tolist(),
        "histogram_min": low,
        "histogram_max": high,
        "histogram_nan_count": nonfinite,
    }


def _percentile(plane: np.ndarray, q: float | list[float]) -> Any:
    finite = plane[np.isfinite(plane)]
    return np.percentile(finite, q) if finite.size else None


@functools.cache
def _rings(h: int, w: int) -> np.ndarray:
    """Radius in units of 1/max(h, w) cycles/pixel, rounded half up, in exact arithmetic."""
    size = max(h, w)
    ring = np.zeros((h, w), int)
    for i, ky in enumerate(np.fft.fftfreq(h, 1 / h).astype(int)):
        for j, kx in enumerate(np.fft.fftfreq(w, 1 / w).astype(int)):
            squared = Fraction(int(ky) * size, h) ** 2 + Fraction(int(kx) * size, w) ** 2
            guess = math.floor(math.sqrt(squared) + 0.5)
            while guess > 0 and Fraction(2 * guess - 1, 2) ** 2 > squared:
                guess -= 1
            while Fraction(2 * guess + 1, 2) ** 2 <= squared:
                guess += 1
            ring[i, j] = guess
    return ring


def _spectral_slope(plane: np.ndarray) -> float | None:
    rows, cols = plane.shape
    h, w = min(rows, 512), min(cols, 512)
    y0, x0 = (rows - h) // 2, (cols - w) // 2
    crop = plane[y0 : y0 + h, x0 : x0 + w]
    finite = np.isfinite(crop)
    if not finite.any():
        return None
    fill = crop[finite].mean()
    centred = np.where(finite, crop, fill) - fill
    window = np.hanning(h)[:, None] * np.hanning(w)[None, :]
    power = np.abs(np.fft.fft2(centred * window)) ** 2
    ring = _rings(h, w)
    size = max(h, w)
    xs, ys = [], []
    for j in np.unique(ring):
        freq = j / size
        mean_power = power[ring == j].mean()
        if 0.025 <= freq <= 0.2 and mean_power > 0:
            xs.append(math.log(freq))
            ys.append(math.log(mean_power))
    if len(xs) < 2:
        return None
    return float(np.polyfit(xs, ys, 1)[0])


def _local(plane: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    windows = sliding_window_view(plane, (3, 3))
    return windows.mean(axis=(2, 3)), windows.std(axis=(2, 3))


def quality(plane: np.ndarray) -> dict[str, Any]:
    """The raster-quality metrics of one 2D plane (any dtype)."""
    if plane.shape[0] < 3 or plane.shape[1] < 3:
        return dict.fromkeys(QUALITY)
    dtype = plane.dtype
    p = plane.astype(np.float64)
    with np.errstate(all="ignore"):
        lap = p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * p[1:-1, 1:-1]
        pct = _percentile(p, [1, 99])
        contrast = None
        if pct is not None and pct[0] + pct[1] != 0:
            contrast = float((pct[1] - pct[0]) / (pct[1] + pct[0]))
        mu, sigma = _local(p)
        finite = p[np.isfinite(p)]
        mscn = None
        if finite.size:
            c = 1e-3 * (finite.max() - finite.min())
            mscn = _var((p[1:-1, 1:-1] - mu) / (sigma + c))
        s = sigma[np.isfinite(sigma)]
        texture = float(s.std() / s.mean()) if s.size and s.mean() != 0 else None
    clipping: dict[str, Any] = dict.fromkeys(("bright_clipping_fraction", "dark_clipping_fraction"))
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        clipping = {
            "bright_clipping_fraction": float(np.mean(plane == info.max)),
            "dark_clipping_fraction": float(np.mean(plane == info.min)),
        }
    return {
        "laplacian_variance": _var(lap),
        "michelson_contrast": contrast,
        "mscn_variance": mscn,
        "texture_heterogeneity": texture,
        "spectral_slope": _spectral_slope(p),
        **clipping,
    }


def compression(plane: np.ndarray) -> dict[str, Any]:
    """The raster-compression metrics of one 2D plane."""
    if plane.shape[0] < 3 or plane.shape[1] < 3:
        return dict.fromkeys(COMPRESSION)
    p = plane.astype(np.float64)
    with np.errstate(all="ignore"):
        dx = np.abs(p[:, 1:] - p[:, :-1])
        dy = np.abs(p[1:, :] - p[:-1, :])
        edge_x = (np.arange(dx.shape[1]) + 1) % 8 == 0
        edge_y = (np.arange(dy.shape[0]) + 1) % 8 == 0
        edges = np.concatenate([dx[:, edge_x].ravel(), dy[edge_y, :].ravel()])
        others = np.concatenate([dx[:, ~edge_x].ravel(), dy[~edge_y, :].ravel()])
        edges, others = edges[np.isfinite(edges)], others[np.isfinite(others)]
        blocking = None
        if edges.size and others.size and others.mean() > 0:
            blocking = float(edges.mean() / others.mean())
        gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (
            p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2]
        )
        gy = (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (
            p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:]
        )
        magnitude = np.sqrt(gx**2 + gy**2)
        # valid interior: the whole 3×3 neighbourhood finite (the kernels' zero column
        # or row would otherwise let a position next to ±inf through)
        whole = sliding_window_view(np.isfinite(p), (3, 3)).all(axis=(2, 3))
        magnitude[~whole] = np.nan
        ringing = None
        finite = magnitude[np.isfinite(magnitude)]
        if finite.size:
            strong = magnitude > np.percentile(finite, 90)
            padded = np.pad(strong, 1, constant_values=False)
            near = sliding_window_view(padded, (3, 3)).any(axis=(2, 3))
            mu, _ = _local(p)
            residual = p[1:-1, 1:-1] - mu
            valid = np.isfinite(residual)
            a, b = _var(residual[near & valid]), _var(residual[~near & valid])
            ringing = a / b if a is not None and b else None
    return {"blocking_index": blocking, "ringing_index": ringing}


def planes(block: np.ndarray, dim_order: str) -> list[np.ndarray]:
    """Every (Y, X) plane of ``block``."""
    axes = [a for a in dim_order if a not in SPATIAL]
    order = [dim_order.index(a) for a in axes] + [dim_order.index(a) for a in SPATIAL]
    arranged = np.transpose(block, order)
    return [arranged[idx] for idx in itertools.product(*(range(n) for n in arranged.shape[:-2]))]


def plane_means(
    block: np.ndarray, dim_order: str, metric: Any, names: tuple[str, ...]
) -> dict[str, Any]:
    """Per-plane metrics averaged over the planes where defined (all planes weigh the same)."""
    values = [metric(p) for p in planes(block, dim_order)]
    out: dict[str, Any] = {}
    for name in names:
        defined = [v[name] for v in values if v[name] is not None]
        out[name] = float(np.mean(defined)) if defined else None
    return out


def row_block(array: np.ndarray, dim_order: str, row: dict[str, Any]) -> np.ndarray:
    """The pixels a row covers, from its dim_* and size_* fields."""
    index = []
    for axis in dim_order:
        start = row.get(f"dim_{axis.lower()}")
        if start is None:
            index.append(slice(None))
        else:
            index.append(slice(start, start + row[f"size_{axis.lower()}"]))
    return array[tuple(index)]


def expected(array: np.ndarray, dim_order: str, row: dict[str, Any]) -> dict[str, Any]:
    """Every metric of one row (thumbnail excluded)."""
    block = row_block(array, dim_order, row)
    return {
        **basic(block),
        **histogram(block),
        **plane_means(block, dim_order, quality, QUALITY),
        **plane_means(block, dim_order, compression, COMPRESSION),
    }


EXACT = {
    "finite_pixel_count",
    "histogram_counts",
    "histogram_nan_count",
    "histogram_min",
    "histogram_max",
    "min_intensity",
    "max_intensity",
}


def assert_same(got: Any, want: Any, name: str, *, exact: bool = False) -> None:
    """Equal for exact columns, else equal to 1e-6 relative (1e-12 absolute near 0)."""
    if want is None or got is None:
        assert got is None and want is None, f"{name}: got {got!r}, want {want!r}"
    elif exact or name in EXACT or isinstance(want, list | int | bytes):
        assert got == want, f"{name}: got {got!r}, want {want!r}"
    else:
        assert math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-12), f"{name}: {got!r} != {want!r}"
