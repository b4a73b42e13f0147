"""Pixel reads of the bioio loader: a whole scene at once, or blocks through Dask.

Belongs here: :class:`BioioHandle` (an open ``BioImage`` set to one scene and level),
the block sources of both routes (:class:`DirectSource` for files the direct route
reads, :class:`BioioSource` for bioio's), the lazy array of a resolution level
(:func:`open_level`) and the whole-array read of a scene (:func:`read_scene`). Not
here: headers (:mod:`.loader`) and choosing the route (:mod:`.routes`).
"""

from __future__ import annotations

import math
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from pixel_patrol_base.errors import ImageLoadError
from pixel_patrol_base.loaders.axes import AxisPlan, SourceKey, plan_axes
from pixel_patrol_base.loaders.bioio.metadata import samples_as_channels
from pixel_patrol_base.loaders.bioio.opened import close_opened, reopen, reopen_direct
from pixel_patrol_base.loaders.bioio.routes import (
    decodes_tiff_series,
    open_without_bioio,
    quiet_ome_types,
)
from pixel_patrol_base.loaders.bioio.scene import TIFF_PLUGIN, DirectFile
from pixel_patrol_base.loaders.bioio.tiff import read_tiff_series
from pixel_patrol_base.loaders.common import check_unchanged, load_error
from pixel_patrol_base.loaders.lazy import BlockSource, as_dask, file_token
from pixel_patrol_base.plugins.contracts import ImageInfo

READER = "bioio"
"""The reader named in the block sources' errors and their Dask tokens."""

_PLANE_AXES = frozenset("YXS")
"""bioio axes that one decoded plane spans."""


class BioioHandle:
    """An open BioImage set to one scene and resolution level."""

    def __init__(self, path: Path, scene: str | None, level: int) -> None:
        self.path = path
        self.image, self.plugin = reopen(path)
        try:
            with quiet_ome_types():
                # BioImage.set_scene drops the dimensions it derived even for the scene
                # it is already on; the header left it on this scene, so keep them.
                if self.image.current_scene != (scene or self.image.scenes[0]):
                    self.image.set_scene(0 if scene is None else scene)
                if level != self.image.current_resolution_level:
                    self.image.set_resolution_level(level)
                self.axes = self.image.dims.order
        except Exception as exc:
            raise load_error(path, self.plugin, exc) from exc

    @cached_property
    def data(self) -> Any:
        """The dask array of the current scene and level, in bioio's axes."""
        with quiet_ome_types():
            return self.image.dask_data

    def checked_plan(self, info: ImageInfo) -> AxisPlan:
        """The axis plan of the level-0 scene, checked against the header read before."""
        try:
            with quiet_ome_types():
                level = self.image.current_resolution_level
                if level:
                    self.image.set_resolution_level(0)
                shape = self.image.dims.shape
                if level:
                    self.image.set_resolution_level(level)
            plan = plan_axes(self.axes, shape)
        except Exception as exc:
            raise load_error(self.path, self.plugin, exc) from exc
        check_unchanged(self.path, info, plan.dim_order, plan.shape)
        return plan

    def whole(self) -> np.ndarray | None:
        """The whole array of the current scene and level, in bioio's axes, read at once
        by the plugin (much faster than computing ``data``); ``None`` when the plugin's
        own axes cannot be mapped onto bioio's."""
        with quiet_ome_types():
            shape = tuple(self.image.dims.shape)
            block, axes = self._decode()
        if block.ndim != len(axes) or len(set(axes)) != len(axes):
            return None
        if not set(axes) <= set(self.axes) or block.size != math.prod(shape):
            return None
        order = [axes.index(a) for a in self.axes if a in axes]
        expected = tuple(n for a, n in zip(self.axes, shape, strict=True) if a in axes)
        block = block.transpose(order)
        if block.shape != expected:
            return None
        return block.reshape(shape)

    def _decode(self) -> tuple[np.ndarray, str]:
        """The plugin's in-memory read of the current scene, and the axes it labels it with."""
        reader = self.image.reader
        if decodes_tiff_series(self.plugin) and not self.image.current_resolution_level:
            # What these plugins' own reads decode (the series' pixels as tifffile decodes
            # them), without the xarray and the Dask graph they wrap around them: those
            # cost more than decoding a small image.
            block, axes = read_tiff_series(self.path, reader.current_scene_index)
            if self.plugin == TIFF_PLUGIN:
                return block, reader.dims.order  # tifffile's axes with guesses for Q and I
            # bioio-ome-tiff labels the series with tifffile's axes (see samples_as_channels)
            return block, samples_as_channels(axes, "S" in self.axes)
        return np.asarray(reader.data), reader.dims.order

    def close(self) -> None:
        """Close the image."""
        close_opened(self.image)


def read_scene(path: Path, info: ImageInfo) -> np.ndarray:
    """One scene (level 0) in memory, axes in ``info.dim_order``, by whichever route
    read its header.

    Raises:
        ImageLoadError: when the file cannot be read or no longer matches ``info``.
    """
    direct = reopen_direct(path)
    if direct is None:
        return _source(path, info, 0).read_all()
    try:
        index = direct.index_of(info.child_id)
        scene = direct.scenes[index]
        plan = plan_axes(scene.standard_axes, scene.standard_shape)
        check_unchanged(path, info, plan.dim_order, plan.shape)
    except Exception:
        direct.close()
        raise
    source = DirectSource(path, plan, info.dtype, index)
    source.adopt(direct)
    return source.read_all()


def open_level(path: Path, info: ImageInfo, level: int) -> Any:
    """Lazy dask array of resolution ``level`` of one scene, read through bioio.

    Raises:
        ImageLoadError: when the file cannot be opened or no longer matches ``info``.
    """
    source = _source(path, info, level)
    return as_dask(source, (READER, *file_token(path), info.child_id, level))


def _source(path: Path, info: ImageInfo, level: int) -> BioioSource:
    handle = BioioHandle(path, info.child_id, level)
    try:
        plan = handle.checked_plan(info)
        if level:
            plan = plan.with_source_shape(handle.image.dims.shape)
    except Exception:
        handle.close()
        raise
    source = BioioSource(path, plan, info.dtype, info.child_id, level)
    source.adopt(handle)
    return source


class DirectSource(BlockSource):
    """One scene of a file read without bioio (see :mod:`.routes`), in bioio's axes."""

    reader = READER

    def __init__(self, path: Path, plan: AxisPlan, dtype: str, index: int) -> None:
        super().__init__(path, plan, dtype)
        self.index = index

    def _open(self) -> DirectFile:
        direct = open_without_bioio(self.path)
        if direct is None:
            raise ImageLoadError(f"'{self.path.name}' changed since its header was read")
        return direct

    def _read(self, handle: DirectFile, key: SourceKey) -> Any:
        scene = handle.scenes[self.index]
        return scene.to_standard(handle.read(self.index))[key]


class BioioSource(BlockSource):
    """One scene and resolution level read through bioio, in bioio's axes."""

    reader = READER

    def __init__(
        self, path: Path, plan: AxisPlan, dtype: str, scene: str | None, level: int
    ) -> None:
        super().__init__(path, plan, dtype)
        self.scene = scene
        self.level = level
        self._planes: tuple[str, np.ndarray] | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_planes"] = None
        return state

    def _open(self) -> BioioHandle:
        return BioioHandle(self.path, self.scene, self.level)

    def _read(self, handle: BioioHandle, key: SourceKey) -> Any:
        if self.is_full(key):
            block = handle.whole()
            if block is not None:
                return block
        # bioio decodes whole Y-X planes whatever part of them is asked for, and a large
        # image is read tile by tile, pass after pass: keep the planes of the last read
        # and cut later tiles of the same planes from them.
        planes = tuple(
            slice(None) if axis in _PLANE_AXES else part
            for axis, part in zip(handle.axes, key, strict=True)
        )
        token = repr(planes)
        from dask.local import get_sync

        if self._planes is None or self._planes[0] != token:
            self._planes = None  # let the previous planes go before reading new ones
            self._planes = (token, np.asarray(handle.data[planes].compute(scheduler=get_sync)))
        inside = tuple(
            part if axis in _PLANE_AXES else slice(None)
            for axis, part in zip(handle.axes, key, strict=True)
        )
        return self._planes[1][inside]
