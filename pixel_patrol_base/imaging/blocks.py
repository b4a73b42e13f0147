"""How ``slice_size`` cuts an image into leaf blocks, and which obs_level rows exist.

Belongs here: the leaf grid, the hierarchy axes, the enumeration of rows and the extent
(``dim_*``, ``size_*``, ``num_pixels``) of each row. Not here: pixels or metrics.

The hierarchy:
    * Every axis is cut into blocks of ``slice_size[axis]`` (``-1``: the full extent).
      Defaults: 1 for every axis but Y and X (T, C, Z, S and the further axes such as
      H or E); the full extent for Y and X.
    * The *hierarchy axes* are the axes cut into more than one block (so an axis of
      extent 1, or one with ``slice_size`` -1, never makes rows of its own).
    * Leaves are the blocks. Level 0 is the whole image. Level k has one row for each
      combination of k hierarchy axes and a block along each of them; the others span
      the whole image. Leaves themselves are the rows of level ``len(hierarchy)``.
    * ``dim_<axis>`` of a row is the first index of its block along that axis (the
      index itself when the block size is 1), ``size_<axis>`` its extent.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pixel_patrol_base.errors import SettingsError
from pixel_patrol_base.table.catalog import ALL_AXES

SPATIAL_AXES: tuple[str, str] = ("Y", "X")
_DEFAULT_BLOCK = {"Y": -1, "X": -1}


@dataclass(frozen=True)
class ImageContext:
    """What every processor may know about the image as a whole.

    Attributes:
        dim_order: Axes in storage order (canonical letters).
        sizes: Extent per axis of ``dim_order``.
        dtype: Pixel data type.
        thumbnail_size: Longest side of the thumbnail in pixels.
        extra: The loader's further header metadata (``ImageInfo.extra``), e.g. the
            ``declared_bit_depth`` that ``raster-qc`` measures saturation against.
    """

    dim_order: str
    sizes: Mapping[str, int]
    dtype: np.dtype[Any]
    thumbnail_size: int = 64
    extra: Mapping[str, Any] = field(default_factory=dict)

    def size(self, axis: str) -> int:
        """Extent along ``axis``; 1 for an axis the image does not have."""
        return self.sizes.get(axis, 1)

    @property
    def plane_axes(self) -> tuple[str, ...]:
        """The axes other than Y and X, in storage order; a plane fixes all of them."""
        return tuple(a for a in self.dim_order if a not in SPATIAL_AXES)


@dataclass(frozen=True)
class Leaf:
    """One leaf block: a box of the image given by a start and stop per axis.

    Attributes:
        image: The image the leaf belongs to.
        key: Block number along each hierarchy axis (in :attr:`Layout.hierarchy` order).
        start: First index per axis (every axis of the image, plus Y and X).
        stop: One past the last index per axis.
    """

    image: ImageContext
    key: tuple[int, ...]
    start: Mapping[str, int]
    stop: Mapping[str, int]

    def extent(self, axis: str) -> int:
        """Number of indices the leaf covers along ``axis``."""
        return self.stop[axis] - self.start[axis]

    @property
    def plane_shape(self) -> tuple[int, int]:
        """(rows, columns) of the leaf's planes."""
        return self.extent("Y"), self.extent("X")

    @property
    def num_pixels(self) -> int:
        """Number of pixels (samples) in the leaf."""
        return math.prod(self.extent(a) for a in self.start)

    def covers(self, axis: str, index: int) -> bool:
        """Whether the leaf holds ``index`` along ``axis`` (true for absent axes)."""
        if axis not in self.start:
            return True
        return self.start[axis] <= index < self.stop[axis]

    def planes(self) -> Iterator[dict[str, int]]:
        """Index along every plane axis of each plane of the leaf, in storage order."""
        axes = self.image.plane_axes
        ranges = [range(self.start[a], self.stop[a]) for a in axes]
        for combo in itertools.product(*ranges):
            yield dict(zip(axes, combo, strict=True))

    def selection(self, axes: tuple[str, ...]) -> tuple[slice, ...]:
        """Slices selecting the leaf from an array whose axes are ``axes``."""
        return tuple(slice(self.start[a], self.stop[a]) for a in axes)


@dataclass(frozen=True)
class RowSpec:
    """One obs_level row: the hierarchy axes it fixes and the block along each."""

    level: int
    positions: tuple[int, ...]
    """Indices into :attr:`Layout.hierarchy` of the fixed axes."""
    blocks: tuple[int, ...]
    """Block number along each fixed axis."""


class Layout:
    """The leaf grid of one image and the obs_level rows built on it."""

    def __init__(self, image: ImageContext, slice_size: Mapping[str, int]) -> None:
        """Cut ``image`` by ``slice_size`` (axis letter -> block size, ``-1``: full).

        Raises:
            SettingsError: when a block size is 0 or below -1.
        """
        self.image = image
        wanted = {k.upper(): int(v) for k, v in slice_size.items()}
        self.block: dict[str, int] = {}
        for axis in (*image.plane_axes, *SPATIAL_AXES):
            size = image.size(axis)
            step = wanted.get(axis, _DEFAULT_BLOCK.get(axis, 1))
            if step == 0 or step < -1:
                raise SettingsError(
                    f"slice_size[{axis!r}] is {step}; use a positive block size or -1 "
                    "for the full extent"
                )
            self.block[axis] = max(size, 1) if step == -1 else min(step, max(size, 1))
        order = [a for a in ALL_AXES if a in self.block]
        self.hierarchy: tuple[str, ...] = tuple(a for a in order if self.n_blocks(a) > 1)

    def n_blocks(self, axis: str) -> int:
        """Number of blocks along ``axis``."""
        return math.ceil(self.image.size(axis) / self.block[axis])

    def _bounds(self, axis: str, block: int) -> tuple[int, int]:
        start = block * self.block[axis]
        return start, min(start + self.block[axis], self.image.size(axis))

    def leaves(self) -> Iterator[Leaf]:
        """Every leaf, outer hierarchy axes (in storage order) varying slowest."""
        storage = sorted(self.hierarchy, key=self._storage_rank)
        position = {a: self.hierarchy.index(a) for a in storage}
        for combo in itertools.product(*(range(self.n_blocks(a)) for a in storage)):
            chosen = dict(zip(storage, combo, strict=True))
            start: dict[str, int] = {}
            stop: dict[str, int] = {}
            for axis in self.block:
                start[axis], stop[axis] = (
                    self._bounds(axis, chosen[axis])
                    if axis in chosen
                    else (0, self.image.size(axis))
                )
            key = tuple(chosen[a] for a in sorted(chosen, key=position.__getitem__))
            yield Leaf(self.image, key, start, stop)

    def _storage_rank(self, axis: str) -> int:
        order = self.image.dim_order
        return order.index(axis) if axis in order else len(order)

    def rows(self) -> Iterator[RowSpec]:
        """Every obs_level row: level 0 first, then each level by axis subset."""
        for level in range(len(self.hierarchy) + 1):
            for positions in itertools.combinations(range(len(self.hierarchy)), level):
                axes = [self.hierarchy[p] for p in positions]
                for blocks in itertools.product(*(range(self.n_blocks(a)) for a in axes)):
                    yield RowSpec(level, positions, blocks)

    def row_fields(self, row: RowSpec) -> dict[str, Any]:
        """``obs_level``, ``dim_*`` of the fixed axes, ``size_*`` and ``num_pixels``."""
        fields: dict[str, Any] = {"obs_level": row.level}
        extent = {a: self.image.size(a) for a in self.image.dim_order}
        for position, block in zip(row.positions, row.blocks, strict=True):
            axis = self.hierarchy[position]
            start, stop = self._bounds(axis, block)
            fields[f"dim_{axis.lower()}"] = start
            if axis in extent:
                extent[axis] = stop - start
        for axis in self.image.dim_order:
            fields[f"size_{axis.lower()}"] = extent[axis]
        fields["num_pixels"] = math.prod(extent.values())
        return fields
