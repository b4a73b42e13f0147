"""The ``bioio`` loader, the default: every format a bioio plugin reads.

Each bioio *scene* is one image; a file with several scenes gives one
:class:`ImageInfo` per scene, ``child_id`` being the scene id. bioio presents every
image as ``TCZYX`` (plus ``S`` for RGB); :mod:`.axes` drops the singleton T, C and Z.

Reader choice is deterministic and explainable. :data:`FORMAT_PLUGINS` lists, per
extension, the bioio plugins to try, in order; plugins installed but not listed there
add the extensions they declare. For TIFF the OME-TIFF reader is tried only when the
file carries OME-XML, so plain TIFFs go straight to bioio-tifffile. When no candidate
can read a file, the error says what each one answered. When the plugin for an
extension is not installed (nd2, czi, lif, OME-Zarr are the optional
``pixel-patrol[formats]`` extra), the loader raises :class:`MissingFormatPluginError`
naming the package to install instead of skipping the file.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache, cached_property
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import numpy as np

from pixel_patrol_base.errors import ImageLoadError, MissingFormatPluginError
from pixel_patrol_base.loaders.axes import AxisPlan, SourceKey, harmonise_pixel_sizes, plan_axes
from pixel_patrol_base.loaders.bioio_direct import (
    OME_PLUGIN,
    TIFF_PLUGIN,
    DirectFile,
    ReaderScene,
    ome_size_units,
    open_direct,
    read_tiff_series,
    samples_as_channels,
)
from pixel_patrol_base.loaders.common import (
    channel_names_or_none,
    check_unchanged,
    load_error,
    matching_extension,
    one_line,
    size_of,
)
from pixel_patrol_base.loaders.lazy import BlockSource, as_dask, file_token
from pixel_patrol_base.plugins.contracts import ImageInfo

logger = logging.getLogger(__name__)

READER = "bioio"
FORMATS_EXTRA = "pixel-patrol[formats]"
FORMAT_PLUGINS: Mapping[str, tuple[str, ...]] = {
    "ome.tif": ("bioio-ome-tiff", "bioio-tifffile"),
    "ome.tiff": ("bioio-ome-tiff", "bioio-tifffile"),
    "tif": ("bioio-ome-tiff", "bioio-tifffile"),
    "tiff": ("bioio-ome-tiff", "bioio-tifffile"),
    "lsm": ("bioio-tifffile",),
    "png": ("bioio-imageio",),
    "jpg": ("bioio-imageio",),
    "jpeg": ("bioio-imageio",),
    "bmp": ("bioio-imageio",),
    "gif": ("bioio-imageio",),
    "nd2": ("bioio-nd2",),
    "czi": ("bioio-czi",),
    "lif": ("bioio-lif",),
    "ome.zarr": ("bioio-ome-zarr",),
    "zarr": ("bioio-ome-zarr",),
}
"""Extension -> bioio plugins (distribution names) to try, in order."""

OPTIONAL_PLUGINS = frozenset({"bioio-nd2", "bioio-czi", "bioio-lif", "bioio-ome-zarr"})
"""Plugins of the ``pixel-patrol[formats]`` extra."""

_PLANE_AXES = frozenset("YXS")
"""bioio axes that one decoded plane spans."""
_TIFF_PLUGINS = frozenset({OME_PLUGIN, TIFF_PLUGIN})
"""Plugins whose whole-image read is a tifffile series read (see ``_BioioHandle._decode``);
they take ``chunk_dims`` and are asked for one chunk per Y-X plane."""


@cache
def _installed() -> dict[str, Any]:
    """Installed bioio reader plugins: distribution name -> entry point."""
    return {ep.name: ep for ep in entry_points(group="bioio.readers")}


@cache
def _plugins_by_extension() -> dict[str, tuple[str, ...]]:
    table = dict(FORMAT_PLUGINS)
    for name, ep in _installed().items():
        if any(name in plugins for plugins in FORMAT_PLUGINS.values()):
            continue
        try:
            declared = ep.load().ReaderMetadata.get_supported_extensions()
        except Exception as exc:  # a broken third-party plugin must not break the loader
            logger.warning("bioio plugin %s is unusable and ignored: %s", name, exc)
            continue
        for ext in declared:
            key = ext.lower().lstrip(".")
            table[key] = (*table.get(key, ()), name)
    return table


@cache
def _reader_class(plugin: str) -> Any:
    return _installed()[plugin].load().ReaderMetadata.get_reader()


@contextmanager
def _quiet_ome_types() -> Iterator[None]:
    # bioio-ome-tiff still passes ``parser=`` to ome_types.from_xml, which warns about it
    # on every OME-TIFF; nothing a user can act on, so this one warning is silenced.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message="As of version 0.4.0, the parser argument is ignored",
            category=DeprecationWarning,
        )
        yield


def _tiff_has_ome(path: Path) -> bool:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        return bool(tif.is_ome)


_PROBES: Mapping[str, Callable[[Path], bool]] = {"bioio-ome-tiff": _tiff_has_ome}


def _candidates(path: Path) -> tuple[str, ...]:
    """The installed bioio plugins to try for ``path``, in order.

    Raises:
        MissingFormatPluginError: when the plugin for the extension is not installed.
        ImageLoadError: when no bioio plugin is known for the extension.
    """
    table = _plugins_by_extension()
    ext = matching_extension(path, table)
    if ext is None:
        raise ImageLoadError(f"'{path.name}': no bioio plugin is known for this extension")
    candidates = tuple(p for p in table[ext] if p in _installed())
    if not candidates:
        package = table[ext][0]
        hint = f" (or pip install '{FORMATS_EXTRA}')" if package in OPTIONAL_PLUGINS else ""
        raise MissingFormatPluginError(
            f"'{path.name}': reading .{ext} files needs the bioio plugin {package}, "
            f"which is not installed; pip install {package}{hint}"
        )
    return candidates


def open_bioimage(path: Path) -> tuple[Any, str]:
    """Open ``path`` with the first bioio plugin that reads it.

    Returns:
        The ``BioImage`` and the name of the plugin that opened it.

    Raises:
        MissingFormatPluginError: when the plugin for the extension is not installed.
        ImageLoadError: when no installed plugin reads the file (the message says what
            each one answered).
    """
    from bioio import BioImage

    answers = []
    for plugin in _candidates(path):
        probe = _PROBES.get(plugin)
        try:
            if probe is not None and not probe(path):
                answers.append(f"{plugin}: not this flavour")
                continue
            kwargs: dict[str, Any] = {"chunk_dims": "YX"} if plugin in _TIFF_PLUGINS else {}
            with _quiet_ome_types():
                image = BioImage(path, reader=_reader_class(plugin), **kwargs)
            return image, plugin
        except Exception as exc:
            answers.append(f"{plugin}: {_reason(exc)}")
    raise ImageLoadError(one_line(f"cannot read '{path.name}' with bioio: {'; '.join(answers)}"))


_Opened = tuple[Any, str] | DirectFile
"""A file as :meth:`BioioLoader.read_header` opened it: a ``BioImage`` and its plugin, or
a :class:`~.bioio_direct.DirectFile`."""

_recent: dict[tuple[str, int, int], _Opened] = {}
"""The file :meth:`BioioLoader.read_header` opened last, by :func:`file_token`: the shard
job asks for the header and then the pixels of the same file, so the pixels reuse it
instead of parsing the file's metadata a second time."""


def _keep_recent(path: Path, opened: _Opened) -> None:
    for stale in _recent.values():
        _close(stale)
    _recent.clear()
    _recent[file_token(path)] = opened


def _reopen(path: Path) -> tuple[Any, str]:
    """The image the header was read from when the file is unchanged, else a new one."""
    kept = _recent.pop(file_token(path), None)
    if isinstance(kept, tuple):
        return kept
    if kept is not None:
        kept.close()
    return open_bioimage(path)


def _reopen_direct(path: Path) -> DirectFile | None:
    """The file read without bioio (kept from the header, else opened now), or ``None``
    when bioio itself reads it."""
    token = file_token(path)
    kept = _recent.get(token)
    if isinstance(kept, DirectFile):
        del _recent[token]
        return kept
    if kept is not None:
        return None
    return open_direct(path, _candidates(path))


def _close(opened: Any) -> None:
    close = getattr(opened[0] if isinstance(opened, tuple) else opened, "close", None)
    if callable(close):
        close()


def _reason(exc: Exception) -> str:
    """What a plugin answered, short: bioio wraps a reader's error in a longer message."""
    text = str(exc)
    wrapped = re.search(r"Readers attempted:\s*-\s*\w+:\s*(.*)", text, flags=re.DOTALL)
    if wrapped:
        return one_line(wrapped.group(1), 160)
    return one_line(f"{type(exc).__name__}: {text}", 160)


class BioioLoader:
    """Reads images with bioio and its installed plugins (see the module docstring)."""

    id = "bioio"
    version = "1"

    def __init__(self) -> None:
        self.extensions: frozenset[str] = frozenset(_plugins_by_extension())

    def read_header(self, path: Path) -> list[ImageInfo]:
        """One :class:`ImageInfo` per scene, without loading pixels.

        Raises:
            MissingFormatPluginError: when the format's bioio plugin is not installed.
            ImageLoadError: when the file cannot be opened.
        """
        direct = open_direct(path, _candidates(path))
        if direct is not None:
            several = len(direct.scenes) > 1
            try:
                infos = [
                    _direct_info(direct, i, direct.ids[i] if several else None)
                    for i in range(len(direct.scenes))
                ]
            except Exception as exc:
                direct.close()
                raise load_error(path, direct.plugin, exc) from exc
            _keep_recent(path, direct)
            return infos
        image, plugin = open_bioimage(path)
        try:
            with _quiet_ome_types():
                scenes = list(image.scenes)
                if not scenes:  # e.g. a TIFF whose first-page offset points nowhere
                    raise ImageLoadError(
                        f"cannot read '{path.name}' with {plugin}: the file holds no image "
                        "(no scene); check that it is not corrupt or truncated"
                    )
                infos = [
                    _scene_info(image, plugin, scene, scene if len(scenes) > 1 else None)
                    for scene in scenes
                ]
        except Exception as exc:
            _close(image)
            raise load_error(path, plugin, exc) from exc
        _keep_recent(path, (image, plugin))
        return infos

    def open_array(self, path: Path, info: ImageInfo) -> Any:
        """Lazy dask array of one scene (level 0), axes in ``info.dim_order``.

        Raises:
            ImageLoadError: when the file cannot be opened or no longer matches ``info``.
        """
        return _open_level(path, info, 0)

    def read_array(self, path: Path, info: ImageInfo) -> np.ndarray:
        """One scene (level 0) in memory, axes in ``info.dim_order``.

        Raises:
            ImageLoadError: when the file cannot be read or no longer matches ``info``.
        """
        direct = _reopen_direct(path)
        if direct is None:
            return _source(path, info, 0).read_all()
        try:
            index = _direct_index(direct, info.child_id)
            scene = direct.scenes[index]
            plan = plan_axes(scene.standard_axes, scene.standard_shape)
            check_unchanged(path, info, plan.dim_order, plan.shape)
        except Exception:
            direct.close()
            raise
        source = _DirectSource(path, plan, info.dtype, index)
        source.adopt(direct)
        return source.read_all()

    def open_thumbnail_array(self, path: Path, info: ImageInfo, min_side: int = 64) -> Any:
        """Lazy array of the smallest resolution level with a side of at least ``min_side``.

        Returns ``None`` when the scene has no lower level that large.

        Raises:
            ImageLoadError: when the file cannot be opened.
        """
        handle = _BioioHandle(path, info.child_id, 0)
        try:
            plan = handle.checked_plan(info)
            best = None
            for level in handle.image.resolution_levels[1:]:
                with _quiet_ome_types():
                    handle.image.set_resolution_level(level)
                    shape = plan.with_source_shape(handle.image.dims.shape).shape
                if max(shape[plan.dim_order.index(a)] for a in "YX") >= min_side:
                    best = level
        except ImageLoadError:
            raise
        except Exception as exc:
            raise load_error(path, handle.plugin, exc) from exc
        finally:
            handle.close()
        return None if best is None else _open_level(path, info, best)


def _scene_info(image: Any, plugin: str, scene: str, child_id: str | None) -> ImageInfo:
    image.set_scene(scene)
    units = None
    if plugin == OME_PLUGIN:  # sizes as the OME-XML states them, in its units
        pixels = image.ome_metadata.images[image.current_scene_index].pixels
        units = ome_size_units(pixels)
    described = ReaderScene(
        image.dims.order,
        tuple(image.dims.shape),
        np.dtype(image.dtype),
        image.physical_pixel_sizes,
        image.channel_names,
        units,
    )
    return _info(plugin, child_id, described, len(image.resolution_levels))


def _direct_info(direct: DirectFile, index: int, child_id: str | None) -> ImageInfo:
    return _info(direct.plugin, child_id, direct.scenes[index], 1)  # bioio reads no pyramid


def _info(plugin: str, child_id: str | None, scene: ReaderScene, levels: int) -> ImageInfo:
    """The header of one scene from what bioio reports (see :class:`ReaderScene`)."""
    plan = plan_axes(scene.standard_axes, scene.standard_shape)
    units = scene.pixel_size_units or ("µm", "µm", "µm")  # bioio's unit but for OME
    sizes, unit = harmonise_pixel_sizes(
        {
            a: (v, u)
            for a, v, u in zip("ZYX", scene.pixel_sizes, units, strict=True)
            if a in plan.dim_order or a in "YX"
        }
    )
    return ImageInfo(
        child_id=child_id,
        dim_order=plan.dim_order,
        shape=plan.shape,
        dtype=np.dtype(scene.dtype).newbyteorder("=").name,
        pixel_sizes=sizes,
        pixel_size_unit=unit if sizes else None,
        channel_names=channel_names_or_none(
            scene.channel_names, size_of(plan.dim_order, plan.shape, "C")
        ),
        extra={"resolution_levels": levels, "format_reader": plugin},
    )


def _direct_index(direct: DirectFile, child_id: str | None) -> int:
    if child_id is None:
        return 0
    if child_id in direct.ids:
        return direct.ids.index(child_id)
    raise ImageLoadError(f"no scene {child_id!r} in the file; process it again")


class _BioioHandle:
    """An open BioImage set to one scene and resolution level."""

    def __init__(self, path: Path, scene: str | None, level: int) -> None:
        self.path = path
        self.image, self.plugin = _reopen(path)
        try:
            with _quiet_ome_types():
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
        with _quiet_ome_types():
            return self.image.dask_data

    def checked_plan(self, info: ImageInfo) -> AxisPlan:
        """The axis plan of the level-0 scene, checked against the header read before."""
        try:
            with _quiet_ome_types():
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
        with _quiet_ome_types():
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
        if self.plugin in _TIFF_PLUGINS and not self.image.current_resolution_level:
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
        _close(self.image)


def _source(path: Path, info: ImageInfo, level: int) -> _BioioSource:
    handle = _BioioHandle(path, info.child_id, level)
    try:
        plan = handle.checked_plan(info)
        if level:
            plan = plan.with_source_shape(handle.image.dims.shape)
    except Exception:
        handle.close()
        raise
    source = _BioioSource(path, plan, info.dtype, info.child_id, level)
    source.adopt(handle)
    return source


def _open_level(path: Path, info: ImageInfo, level: int) -> Any:
    source = _source(path, info, level)
    return as_dask(source, (READER, *file_token(path), info.child_id, level))


class _DirectSource(BlockSource):
    """One scene of a file read without bioio (see :mod:`.bioio_direct`), in bioio's axes."""

    reader = READER

    def __init__(self, path: Path, plan: AxisPlan, dtype: str, index: int) -> None:
        super().__init__(path, plan, dtype)
        self.index = index

    def _open(self) -> DirectFile:
        direct = open_direct(self.path, _candidates(self.path))
        if direct is None:
            raise ImageLoadError(f"'{self.path.name}' changed since its header was read")
        return direct

    def _read(self, handle: DirectFile, key: SourceKey) -> Any:
        scene = handle.scenes[self.index]
        return scene.to_standard(handle.read(self.index))[key]


class _BioioSource(BlockSource):
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

    def _open(self) -> _BioioHandle:
        return _BioioHandle(self.path, self.scene, self.level)

    def _read(self, handle: _BioioHandle, key: SourceKey) -> Any:
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


LOADER = BioioLoader()
"""The instance registered under the ``pixel_patrol.loaders`` entry point ``bioio``."""
