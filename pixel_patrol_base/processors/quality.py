"""``raster-quality``: sharpness, contrast, noise structure and clipping of each 2D plane.

Every metric is computed per (Y, X) plane in float64 and aggregated upward as the mean
weighted by the plane's pixel count, over the planes where it is defined. Planes smaller
than 3×3 give nulls. Neighbour filters only use positions whose whole 3×3 neighbourhood
is finite and inside the plane ("valid interior"). A plane cut into tiles gives the same
values as the whole plane: tiles carry a one-pixel halo, and quantities that need the
whole plane first (percentiles, the MSCN constant) take extra passes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pixel_patrol_base.imaging.kernels import Sums, quality_sums
from pixel_patrol_base.imaging.order import OrderStatistics, percentiles
from pixel_patrol_base.imaging.stats import (
    FloatArray,
    IntCounts,
    is_small_int,
    merge_counts,
)
from pixel_patrol_base.imaging.stencil import (
    CROP_SPECTRUM,
    CropSpectrum,
    add_sums,
    centre_crop,
    moments,
    spectral_slope,
)
from pixel_patrol_base.imaging.tiles import Tile
from pixel_patrol_base.processors._planes import Metrics, PlaneMeansProcessor
from pixel_patrol_base.processors.manifest import QUALITY_METADATA

METADATA = QUALITY_METADATA
ID = METADATA.id
VERSION = METADATA.version
COLUMNS = METADATA.columns
NAMES = tuple(c.name for c in COLUMNS)


def _type_limits(dtype: np.dtype[Any]) -> tuple[int, int] | None:
    if dtype.kind == "b":
        return 0, 1
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return int(info.min), int(info.max)
    return None


class _PlaneQuality:
    """Quality metrics of one plane, from its tiles."""

    def __init__(self, tile: Tile) -> None:
        rows, cols = tile.plane_shape
        self.weight = rows * cols
        self.small = rows < 3 or cols < 3
        self.dtype = tile.data.dtype
        self.exact = is_small_int(self.dtype)
        self.limits = _type_limits(self.dtype)
        self.whole = tile.whole
        self.laplacian: Sums = (0, 0.0, 0.0)
        self.texture: Sums = (0, 0.0, 0.0)
        self.mscn: Sums = (0, 0.0, 0.0)
        self.low, self.high = np.inf, -np.inf
        self.counts: list[IntCounts] = []
        self.selector = OrderStatistics([1, 99], expected=self.weight)
        self.percentiles: list[float] | None = None
        self.clipped = [0, 0]
        self.crop_rect = centre_crop(rows, cols)
        self.crop: FloatArray | None = None
        self.slope: float | None = None
        self.mscn_ready = False
        self.passes = 0

    def visit(self, tile: Tile) -> None:
        if self.small:
            return
        if self.passes == 0:
            self._first(tile)
            return
        if not self.mscn_ready:
            self._filters(tile, first=False, mscn=True)
        if self.percentiles is None and not self.exact:
            self.selector.feed(tile.finite_core())

    def _first(self, tile: Tile) -> None:
        found = tile.finite_range()
        if found is not None:
            self.low, self.high = min(self.low, found[0]), max(self.high, found[1])
        self._filters(tile, first=True, mscn=tile.whole)
        if self.exact:
            self.counts.append(tile.counts())
        elif tile.whole:
            self.percentiles = percentiles(tile.finite_core(), [1, 99])
        else:
            self.selector.feed(tile.finite_core())
        self._clipping(tile)
        self._crop(tile)

    def _filters(self, tile: Tile, *, first: bool, mscn: bool) -> None:
        """One sweep over the tile's interior: Laplacian and local std sums on the first
        pass, MSCN sums once the plane's range is known."""
        constant9 = 9e-3 * (self.high - self.low) if mscn and self.low <= self.high else None
        laplacian, texture, normalised = quality_sums(tile.work(), tile.interior(1), constant9)
        if first:
            self.laplacian = add_sums(self.laplacian, laplacian)
            self.texture = add_sums(self.texture, texture)
        if constant9 is not None:
            self.mscn = add_sums(self.mscn, normalised)

    def _clipping(self, tile: Tile) -> None:
        if self.limits is None:
            return
        low, high = self.limits
        if self.exact:
            counts = tile.counts()
            for slot, value in ((0, high), (1, low)):
                at = value - counts.offset
                if 0 <= at < counts.counts.size:
                    self.clipped[slot] += int(counts.counts[at])
        else:
            core = tile.core_data()
            self.clipped[0] += int(np.count_nonzero(core == high))
            self.clipped[1] += int(np.count_nonzero(core == low))

    def _crop(self, tile: Tile) -> None:
        cy0, cy1, cx0, cx1 = self.crop_rect
        oy, ox = tile.offset
        if tile.whole:
            spectrum = tile.cached(CROP_SPECTRUM, lambda: CropSpectrum(tile.work(), self.crop_rect))
            self.slope = spectral_slope(tile.work(), self.crop_rect, spectrum)
            return
        y0, y1, x0, x1 = tile.core
        top, bottom = max(cy0, oy + y0), min(cy1, oy + y1)
        left, right = max(cx0, ox + x0), min(cx1, ox + x1)
        if top >= bottom or left >= right:
            return
        if self.crop is None:
            self.crop = np.full((cy1 - cy0, cx1 - cx0), np.nan)
        self.crop[top - cy0 : bottom - cy0, left - cx0 : right - cx0] = tile.data[
            top - oy : bottom - oy, left - ox : right - ox
        ]

    def end_pass(self) -> bool:
        if self.small:
            return False
        self.passes += 1
        if self.passes == 1:
            if self.crop is not None:
                rows, cols = self.crop.shape
                self.slope = spectral_slope(self.crop, (0, rows, 0, cols))
                self.crop = None
            self.mscn_ready = self.whole
        else:
            self.mscn_ready = True
        selecting = not self.exact and self.percentiles is None
        if selecting:
            self.selector.end_pass()
            if self.selector.done:
                self.percentiles = self.selector.percentiles()
                selecting = False
        return selecting or not self.mscn_ready

    def result(self) -> Metrics:
        if self.small:
            return dict.fromkeys(NAMES)
        found = self.percentiles
        if self.exact:
            merged = merge_counts(self.counts)
            found = merged.percentiles([1, 99]) if merged is not None else None
        contrast = None
        if found is not None:
            p1, p99 = found
            contrast = (p99 - p1) / (p99 + p1) if p99 + p1 != 0 else None
        texture = moments(self.texture, scale=9.0)
        spread = texture.std
        heterogeneity = spread / texture.mean if spread is not None and texture.mean else None
        clipping = self.limits is not None
        return {
            "laplacian_variance": moments(self.laplacian).var,
            "michelson_contrast": contrast,
            "mscn_variance": moments(self.mscn).var,
            "texture_heterogeneity": heterogeneity,
            "spectral_slope": self.slope,
            "bright_clipping_fraction": self.clipped[0] / self.weight if clipping else None,
            "dark_clipping_fraction": self.clipped[1] / self.weight if clipping else None,
        }


PROCESSOR = PlaneMeansProcessor(ID, VERSION, COLUMNS, halo=1, make_job=_PlaneQuality)
