"""The 2D pieces of pixels that processors see, and how they are cut and read.

Belongs here: :class:`Tile` (a plane or part of one, with a halo of neighbour pixels and
a cache that processors share), the tile geometry, and reading blocks from numpy or
Dask arrays. Not here: what is computed on a tile (see the processors).

A tile's *core* is the part of the plane it is responsible for; its *data* adds up to
``halo`` pixels on each side, clipped to the plane, so that 3×3 filters evaluated on the
core equal those evaluated on the whole plane. When a plane fits the tile budget its
single tile is the whole plane (:attr:`Tile.whole`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from pixel_patrol_base.imaging.blocks import Leaf
from pixel_patrol_base.imaging.stats import IntCounts, is_small_int
from pixel_patrol_base.imaging.types import FloatArray
from pixel_patrol_base.imaging.types import Rect as Rect

T = TypeVar("T")

MIN_TILE_SIDE = 8


@dataclass
class Tile:
    """A rectangle of one plane, with halo, as processors see it.

    Attributes:
        data: Pixels (rows, columns) in the image's dtype: the core plus its halo.
        core: The rectangle of ``data`` this tile is responsible for.
        offset: Plane coordinates (row, column) of ``data[0, 0]``.
        plane_shape: (rows, columns) of the whole plane.
        origin: Image coordinates (Y, X) of ``data[0, 0]``.
        plane: Index along every plane axis (T, C, Z, S and any further axis, as the
            image has them).
        whole: Whether the tile is the whole plane (``core`` is all of ``data``).
    """

    data: npt.NDArray[Any]
    core: Rect
    offset: tuple[int, int]
    plane_shape: tuple[int, int]
    origin: tuple[int, int]
    plane: Mapping[str, int]
    whole: bool
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, ...]:
        """Hashable id of the plane the tile belongs to."""
        return tuple(self.plane.values())

    def cached(self, name: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per tile; processors share the result by ``name``."""
        if name not in self.cache:
            self.cache[name] = compute()
        value: T = self.cache[name]
        return value

    def core_data(self) -> npt.NDArray[Any]:
        """The core pixels (a view)."""
        y0, y1, x0, x1 = self.core
        return self.data[y0:y1, x0:x1]

    def f64(self) -> FloatArray:
        """``data`` as a C-contiguous float64 array (computed once)."""
        return self.cached("f64", lambda: np.ascontiguousarray(self.data, dtype=np.float64))

    def work(self) -> npt.NDArray[Any]:
        """``data`` as the stencil kernels want it (computed once): C-contiguous int32
        for integers of up to 16 bits, where all 3×3 sums stay exact, else float64."""

        def compute() -> npt.NDArray[Any]:
            if is_small_int(self.data.dtype):
                return np.ascontiguousarray(self.data, dtype=np.int32)
            return self.f64()

        return self.cached("work", compute)

    def interior(self, radius: int) -> Rect:
        """Core positions whose ``radius`` neighbourhood lies inside the plane."""
        y0, y1, x0, x1 = self.core
        oy, ox = self.offset
        rows, cols = self.plane_shape
        ry0, ry1 = max(y0, radius - oy), min(y1, rows - radius - oy)
        rx0, rx1 = max(x0, radius - ox), min(x1, cols - radius - ox)
        return ry0, max(ry0, ry1), rx0, max(rx0, rx1)

    def counts(self) -> IntCounts:
        """Exact value counts of the core (integer dtypes of up to 16 bits)."""
        return self.cached("counts", lambda: IntCounts.of(self.core_data()))

    def all_finite(self) -> bool:
        """Whether every pixel of ``data`` is finite (always true for integers)."""
        if self.data.dtype.kind in "biu":
            return True
        return self.cached("all_finite", lambda: bool(np.isfinite(self.data).all()))

    def filters_finite(self) -> bool:
        """Whether sums and squares of neighbouring pixels are all finite in float64.

        True for integers, and for floats of up to 32 bits without NaN or ±inf; float64
        data could overflow, so callers check each value instead.
        """
        kind, size = self.data.dtype.kind, self.data.dtype.itemsize
        return kind in "biu" or (size <= 4 and self.all_finite())

    def finite_core(self) -> FloatArray:
        """The finite core values as a flat float64 array (computed once)."""

        def compute() -> FloatArray:
            y0, y1, x0, x1 = self.core
            core = self.f64()[y0:y1, x0:x1]
            if self.all_finite():
                return core.ravel()
            return core[np.isfinite(core)]

        return self.cached("finite_core", compute)

    def finite_range(self) -> tuple[float, float] | None:
        """(min, max) of the finite core values, ``None`` when there are none."""

        def compute() -> tuple[float, float] | None:
            if is_small_int(self.data.dtype):
                counts = self.counts()
                if counts.counts.size == 0:
                    return None
                return float(counts.offset), float(counts.offset + counts.counts.size - 1)
            values = self.finite_core()
            if values.size == 0:
                return None
            return float(values.min()), float(values.max())

        return self.cached("finite_range", compute)


def tile_rects(rows: int, cols: int, max_pixels: int) -> list[Rect]:
    """Cut a plane into cores of at most ``max_pixels`` pixels (whole rows first)."""
    if rows * cols <= max_pixels:
        return [(0, rows, 0, cols)]
    width = (
        cols if cols * MIN_TILE_SIDE <= max_pixels else max(MIN_TILE_SIDE, math.isqrt(max_pixels))
    )
    height = max(MIN_TILE_SIDE, max_pixels // width)
    return [
        (y, min(y + height, rows), x, min(x + width, cols))
        for y in range(0, rows, height)
        for x in range(0, cols, width)
    ]


def is_dask(array: Any) -> bool:
    """Whether ``array`` is a lazy Dask collection."""
    return hasattr(array, "__dask_graph__")


def read(array: Any) -> npt.NDArray[Any]:
    """Materialise one block (a numpy view stays a view)."""
    if is_dask(array):
        return np.asarray(array.compute())
    return np.asarray(array)


def read_many(arrays: Sequence[Any]) -> list[npt.NDArray[Any]]:
    """Materialise several blocks; Dask blocks in a single ``dask.compute`` call."""
    if not any(is_dask(a) for a in arrays):
        return [np.asarray(a) for a in arrays]
    import dask

    compute: Callable[..., tuple[Any, ...]] = dask.compute  # type: ignore[attr-defined]
    return [np.asarray(a) for a in compute(*arrays)]


class LeafTiles:
    """The tiles of one leaf; iterating gives one pass over them.

    A leaf whose pixels are in memory (``block``) hands out views; when it is a single
    tile the same :class:`Tile` (and its cache) serves every pass, otherwise each pass
    gets fresh tiles so that caches never hold more than one tile. A leaf too large for
    memory (``block`` is ``None``) reads each tile from ``array`` again on every pass.
    """

    def __init__(
        self,
        leaf: Leaf,
        block: npt.NDArray[Any] | None,
        array: Any,
        *,
        halo: int,
        max_pixels: int,
    ) -> None:
        """Prepare the tiles of ``leaf``.

        Args:
            leaf: The leaf.
            block: The leaf's pixels (axes: plane axes, Y, X), or ``None`` to read lazily.
            array: The whole image (axes: plane axes, Y, X), read when ``block`` is None.
            halo: Neighbour pixels to add around each core.
            max_pixels: Largest core, in pixels.
        """
        self.leaf = leaf
        self.block = block
        self.array = array
        self.halo = halo
        self.rects = tile_rects(*leaf.plane_shape, max_pixels)
        self._single: list[Tile] | None = None
        planes = math.prod(leaf.extent(a) for a in leaf.image.plane_axes)
        if block is not None and len(self.rects) == 1 and planes == 1:
            self._single = list(self._tiles())

    def __iter__(self) -> Iterator[Tile]:
        if self._single is not None:
            return iter(self._single)
        return self._tiles()

    def _tiles(self) -> Iterator[Tile]:
        leaf = self.leaf
        rows, cols = leaf.plane_shape
        y_start, x_start = leaf.start["Y"], leaf.start["X"]
        axes = leaf.image.plane_axes
        whole = len(self.rects) == 1
        for plane in leaf.planes():
            for y0, y1, x0, x1 in self.rects:
                dy0, dy1 = max(0, y0 - self.halo), min(rows, y1 + self.halo)
                dx0, dx1 = max(0, x0 - self.halo), min(cols, x1 + self.halo)
                if self.block is not None:
                    at = tuple(plane[a] - leaf.start[a] for a in axes)
                    index: tuple[int | slice, ...] = (*at, slice(dy0, dy1), slice(dx0, dx1))
                    data = self.block[index]
                else:
                    at = tuple(plane[a] for a in axes)
                    region = (
                        slice(y_start + dy0, y_start + dy1),
                        slice(x_start + dx0, x_start + dx1),
                    )
                    data = read(self.array[(*at, *region)])
                yield Tile(
                    data=data,
                    core=(y0 - dy0, y1 - dy0, x0 - dx0, x1 - dx0),
                    offset=(dy0, dx0),
                    plane_shape=(rows, cols),
                    origin=(y_start + dy0, x_start + dx0),
                    plane=plane,
                    whole=whole,
                )
