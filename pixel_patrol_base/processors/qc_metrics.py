"""``raster-qc``: robust per-plane QC metrics that camera gain and offset leave alone.

Background level, noise σ, peak SNR, signal fraction, a noise-floor-corrected focus
score, saturation and black clipping against the declared bit depth, and the bits the
data use. Every metric is computed per (Y, X) plane in float64; the float metrics
aggregate upward as the mean weighted by the plane's pixel count (through
:class:`~pixel_patrol_base.processors._planes.WeightedMeans`), ``saturation_level`` and
``bits_used`` as the max, ``low_zero_bits`` as the min. Planes smaller than 3×3 give
nulls. The formulas are the column descriptions in
:mod:`pixel_patrol_base.processors.manifest`.

Integers of up to 16 bits are exact from value counts (shared with ``raster-basic`` and
``raster-histogram`` through the tile cache) and counted Immerkaer residuals, in one
pass. Other types select percentiles exactly (:mod:`~pixel_patrol_base.imaging.order`),
over extra passes when a plane is cut into tiles. The focus spectrum of a whole-plane
tile is the one ``raster-quality`` uses for its spectral slope, made once per plane.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pixel_patrol_base.imaging.blocks import ImageContext, Leaf
from pixel_patrol_base.imaging.focus import band_focus
from pixel_patrol_base.imaging.focus import columns as focus_columns
from pixel_patrol_base.imaging.kernels import residual_counts, residual_values
from pixel_patrol_base.imaging.order import OrderStatistics, percentiles
from pixel_patrol_base.imaging.stats import (
    FloatArray,
    IntArray,
    IntCounts,
    is_small_int,
    lerp,
    merge_counts,
    percentile_plan,
)
from pixel_patrol_base.imaging.stencil import CROP_SPECTRUM, CropSpectrum, centre_crop
from pixel_patrol_base.imaging.tiles import Tile
from pixel_patrol_base.plugins.contracts import TileVisitor
from pixel_patrol_base.processors._planes import Metrics, WeightedMeans, measure_planes
from pixel_patrol_base.processors.manifest import QC_METADATA

METADATA = QC_METADATA
ID = METADATA.id
VERSION = METADATA.version
COLUMNS = METADATA.columns
NAMES = tuple(c.name for c in COLUMNS)
MEAN_NAMES = NAMES[:8]
BACKGROUND_Q, PEAK_Q = 5.0, 99.9
SIGNAL_SIGMAS = 6.0
MAD_GAUSS = 0.6744897501960817  # median |z| of a standard normal
RESIDUAL_NORM = 6.0  # ‖N‖₂ of Immerkaer's kernel


def clip_limits(image: ImageContext) -> tuple[float, float] | None:
    """(black, saturation) levels of an integer image: the dtype's minimum, and
    2^declared_bit_depth − 1 when declared (and within the dtype) else its maximum."""
    dtype = image.dtype
    if dtype.kind == "b":
        return 0.0, 1.0
    if dtype.kind not in "iu":
        return None
    info = np.iinfo(dtype)
    high = int(info.max)
    declared = image.extra.get("declared_bit_depth")
    if isinstance(declared, int | np.integer) and 0 < int(declared) < info.bits:
        high = min(high, (1 << int(declared)) - 1)
    return float(info.min), float(high)


def _median_abs(counts: IntArray, large: IntArray) -> float | None:
    """Median (numpy linear) of values given as counts of 0..cap−1 plus larger ones."""
    small = int(counts.sum())
    n = small + int(large.size)
    if n == 0:
        return None
    lo, hi, gamma = percentile_plan(n, 50.0)
    cum = np.cumsum(counts)
    ordered = np.sort(large) if any(r >= small for r in (lo, hi)) else large

    def at(rank: int) -> float:
        if rank < small:
            return float(np.searchsorted(cum, rank, side="right"))
        return float(ordered[rank - small])

    return lerp(at(lo), at(hi), gamma)


@dataclass
class _Levels:
    """What the metrics are made of, once known: p5, p99.9, noise σ, finite count."""

    background: float | None = None
    peak: float | None = None
    sigma: float | None = None
    finite: int = 0
    above: int = 0
    at_max: int = 0


class _PlaneQC:
    """QC metrics of one plane, from its tiles."""

    def __init__(self, tile: Tile, limits: tuple[float, float] | None) -> None:
        rows, cols = tile.plane_shape
        self.weight = rows * cols
        self.small = rows < 3 or cols < 3
        dtype = tile.data.dtype
        self.exact = is_small_int(dtype)
        self.integer = dtype.kind in "biu"
        self.limits = limits
        self.counts: list[IntCounts] = []
        self.residuals: list[tuple[IntArray, IntArray]] = []
        self.value_sel = OrderStatistics([BACKGROUND_Q, PEAK_Q], expected=self.weight)
        self.noise_sel = OrderStatistics([50.0], expected=self.weight)
        self.levels = _Levels()
        self.resolved = [False, False]  # levels, noise
        self.counting = False
        self.high = -math.inf
        self.clipped = [0, 0]
        self.bits: tuple[int, int] | None = None  # (max, OR) of integer values
        self.crop_rect = centre_crop(rows, cols)
        self.crop: FloatArray | None = None
        self.focus: float | None = None
        self.passes = 0

    def visit(self, tile: Tile) -> None:
        if self.small:
            return
        if self.passes == 0:
            self._first(tile)
        elif self.counting:
            self._count(tile.finite_core())
        else:
            if not self.resolved[0]:
                self.value_sel.feed(tile.finite_core())
            if not self.resolved[1]:
                self.noise_sel.feed(residual_values(tile.work(), tile.interior(1), tile.offset))

    def _first(self, tile: Tile) -> None:
        self._crop(tile)
        if self.exact:
            counts = tile.counts()
            self.counts.append(counts)
            self.residuals.append(residual_counts(tile.work(), tile.interior(1), tile.offset))
            return
        values = tile.finite_core()
        residuals = residual_values(tile.work(), tile.interior(1), tile.offset)
        found = tile.finite_range()
        if found is not None:
            self.high = max(self.high, found[1])
        if self.integer:
            self._integer_tile(tile.core_data())
        if tile.whole:
            self._resolve_levels(percentiles(values, [BACKGROUND_Q, PEAK_Q]), values.size)
            self._resolve_noise(percentiles(residuals, [50.0]))
            self._count(values)
        else:
            self.value_sel.feed(values)
            self.noise_sel.feed(residuals)

    def _integer_tile(self, core: Any) -> None:
        """Clipping counts and bit usage of a tile of a wide integer type."""
        if core.size == 0:
            return
        assert self.limits is not None
        low, high = self.limits
        self.clipped[0] += int(np.count_nonzero(core >= high))
        self.clipped[1] += int(np.count_nonzero(core <= low))
        top = int(core.max())
        ored = int(np.bitwise_or.reduce(core, axis=None))
        if self.bits is not None:
            top, ored = max(top, self.bits[0]), ored | self.bits[1]
        self.bits = (top, ored)

    def _resolve_levels(self, found: list[float] | None, finite: int) -> None:
        if found is not None:
            self.levels.background, self.levels.peak = found
        self.levels.finite = finite
        self.resolved[0] = True

    def _resolve_noise(self, found: list[float] | None) -> None:
        if found is not None:
            self.levels.sigma = found[0] / (RESIDUAL_NORM * MAD_GAUSS)
        self.resolved[1] = True

    def _count(self, values: FloatArray) -> None:
        levels = self.levels
        if levels.background is not None and levels.sigma:
            threshold = levels.background + SIGNAL_SIGMAS * levels.sigma
            levels.above += int(np.count_nonzero(values > threshold))
        levels.at_max += int(np.count_nonzero(values == self.high))

    def _crop(self, tile: Tile) -> None:
        cy0, cy1, cx0, cx1 = rect = self.crop_rect
        if tile.whole:
            spectrum = tile.cached(CROP_SPECTRUM, lambda: CropSpectrum(tile.work(), rect))
            self._focus(spectrum)
            return
        y0, y1, x0, x1 = tile.core
        oy, ox = tile.offset
        top, bottom = max(cy0, oy + y0), min(cy1, oy + y1)
        left, right = max(cx0, ox + x0), min(cx1, ox + x1)
        if top >= bottom or left >= right:
            return
        if self.crop is None:
            self.crop = np.full((cy1 - cy0, cx1 - cx0), np.nan)
        self.crop[top - cy0 : bottom - cy0, left - cx0 : right - cx0] = tile.data[
            top - oy : bottom - oy, left - ox : right - ox
        ]

    def _focus(self, spectrum: CropSpectrum) -> None:
        power = spectrum.power(focus_columns(spectrum.shape[1]))
        self.focus = band_focus(power, spectrum.shape) if power is not None else None

    def end_pass(self) -> bool:
        if self.small:
            return False
        self.passes += 1
        if self.passes == 1 and self.crop is not None:
            rows, cols = self.crop.shape
            self._focus(CropSpectrum(self.crop, (0, rows, 0, cols)))
            self.crop = None
        if self.exact or self.counting or all(self.resolved):
            return False
        for slot, selector in enumerate((self.value_sel, self.noise_sel)):
            if not self.resolved[slot]:
                selector.end_pass()
                if selector.done and slot == 0:
                    self._resolve_levels(selector.percentiles(), selector.n)
                elif selector.done:
                    self._resolve_noise(selector.percentiles())
        self.counting = all(self.resolved)
        return True

    def result(self) -> Metrics:
        if self.small:
            return dict.fromkeys(MEAN_NAMES)
        if self.exact:
            self._from_counts()
        levels = self.levels
        background, peak, sigma = levels.background, levels.peak, levels.sigma
        snr = None
        if background is not None and peak is not None and sigma:
            snr = (peak - background) / sigma
        finite = levels.finite
        clipping = self.limits is not None
        return {
            "background_level": background,
            "noise_sigma": sigma if background is not None else None,
            "snr": snr,
            "signal_fraction": levels.above / finite if snr is not None and finite else None,
            "focus_score": self.focus if finite else None,
            "saturated_fraction": self.clipped[0] / self.weight if clipping else None,
            "black_clipped_fraction": self.clipped[1] / self.weight if clipping else None,
            "max_plateau_fraction": levels.at_max / finite if finite else None,
        }

    def _from_counts(self) -> None:
        """Every metric but the focus from the merged value and residual counts."""
        merged = merge_counts(self.counts)
        if merged is None:
            return
        levels = self.levels
        levels.finite = merged.n
        found = merged.percentiles([BACKGROUND_Q, PEAK_Q])
        assert found is not None
        levels.background, levels.peak = found
        residual = np.sum([c for c, _ in self.residuals], axis=0)
        large = np.concatenate([big for _, big in self.residuals])
        self._resolve_noise(None if (m := _median_abs(residual, large)) is None else [m])
        values = merged.values()
        if levels.sigma:
            threshold = levels.background + SIGNAL_SIGMAS * levels.sigma
            levels.above = int(merged.counts[values > threshold].sum())
        levels.at_max = int(merged.counts[-1])
        if self.limits is not None:
            low, high = self.limits
            self.clipped = [
                int(merged.counts[values >= high].sum()),
                int(merged.counts[values <= low].sum()),
            ]
        present = values[merged.counts > 0].astype(np.int64)
        self.bits = (int(present[-1]), int(np.bitwise_or.reduce(present)))

    def bit_usage(self) -> tuple[int | None, int | None]:
        """(bits_used, low_zero_bits) of an integer plane (``None`` where undefined)."""
        if self.bits is None or not self.integer:
            return None, None
        top, ored = self.bits
        used = top.bit_length() if top > 0 else 0
        zeros = (ored & -ored).bit_length() - 1 if ored else None
        return used, zeros


@dataclass(frozen=True)
class QcState:
    """The planes' weighted metric totals, and the max/min of the integer metrics."""

    means: WeightedMeans
    saturation_level: float | None
    bits_used: int | None
    low_zero_bits: int | None


def _extreme(values: Sequence[Any], pick: Any) -> Any:
    present = [v for v in values if v is not None]
    return pick(present) if present else None


class QcProcessor:
    """The ``raster-qc`` processor (see the module docstring)."""

    id = ID
    version = VERSION
    columns = COLUMNS
    halo = 1
    uses_overview = False

    def wants(self, leaf: Leaf) -> bool:
        """Every leaf matters."""
        return True

    def measure(self, leaf: Leaf) -> Generator[TileVisitor, None, QcState]:
        """One pass per plane (more for tiled planes of floats or wide integers)."""
        limits = clip_limits(leaf.image)
        jobs: list[_PlaneQC] = []

        def make(tile: Tile) -> _PlaneQC:
            job = _PlaneQC(tile, limits)
            jobs.append(job)
            return job

        means = yield from measure_planes(make)
        usage = [job.bit_usage() for job in jobs]
        return QcState(
            means,
            limits[1] if limits is not None else None,
            _extreme([u for u, _ in usage], max),
            _extreme([z for _, z in usage], min),
        )

    def merge(self, states: Sequence[QcState]) -> QcState:
        """Summed totals; max of the saturation level and bits used, min of the zero bits."""
        return QcState(
            WeightedMeans.merge([s.means for s in states]),
            _extreme([s.saturation_level for s in states], max),
            _extreme([s.bits_used for s in states], max),
            _extreme([s.low_zero_bits for s in states], min),
        )

    def finalize(self, state: QcState) -> dict[str, Any]:
        """Weighted means and the integer metrics."""
        return {
            **state.means.values(MEAN_NAMES),
            "saturation_level": state.saturation_level,
            "bits_used": state.bits_used,
            "low_zero_bits": state.low_zero_bits,
        }


PROCESSOR = QcProcessor()
