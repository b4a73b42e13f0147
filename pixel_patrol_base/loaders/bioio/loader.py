"""The bioio loader class and its headers: :class:`BioioLoader` and ``LOADER``.

Belongs here: the :class:`~pixel_patrol_base.plugins.contracts.Loader` methods, and
reading the header of each scene by the route that opened the file (the direct route's
:class:`~.scene.ReaderScene`, or a ``BioImage`` set to each scene). Not here: choosing
the route or the plugin (:mod:`.routes`), the header rules (:mod:`.metadata`), pixel
reads (:mod:`.pixels`). The package docstring (:mod:`pixel_patrol_base.loaders.bioio`)
gives the whole picture.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from pixel_patrol_base.errors import ImageLoadError
from pixel_patrol_base.loaders.bioio import fallback
from pixel_patrol_base.loaders.bioio.metadata import (
    ZYX,
    ZYXUnits,
    declared_bit_depth,
    image_info,
    ome_size_units,
    tiff_pixel_sizes,
)
from pixel_patrol_base.loaders.bioio.opened import close_opened, keep_recent
from pixel_patrol_base.loaders.bioio.pixels import BioioHandle, open_level, read_scene
from pixel_patrol_base.loaders.bioio.routes import (
    open_bioimage,
    open_without_bioio,
    plugins_by_extension,
    quiet_ome_types,
)
from pixel_patrol_base.loaders.bioio.scene import OME_PLUGIN, TIFF_PLUGIN, DirectFile, ReaderScene
from pixel_patrol_base.loaders.common import load_error
from pixel_patrol_base.loaders.manifest import BIOIO_METADATA
from pixel_patrol_base.loaders.tiff_tags import series_facts
from pixel_patrol_base.plugins.contracts import ImageInfo

logger = logging.getLogger(__name__)


class BioioLoader:
    """Reads images with bioio and its installed plugins (see the package docstring)."""

    id = BIOIO_METADATA.id
    version = BIOIO_METADATA.version

    def __init__(self) -> None:
        self.extensions: frozenset[str] = frozenset(plugins_by_extension())

    def read_header(self, path: Path) -> list[ImageInfo]:
        """One :class:`ImageInfo` per scene, without loading pixels.

        A Zarr store, LIF, CZI or TIFF file that bioio's plugin cannot read, or misreads,
        goes to the format's own library (:mod:`.fallback`); its rows name it in
        ``format_reader``.

        Raises:
            MissingFormatPluginError: when the format's bioio plugin is not installed.
            ImageLoadError: when the file cannot be opened.
        """
        chain = fallback.chain_for(path)
        if chain is not None and not chain.after_direct:
            return fallback.header(path, chain, lambda: _bioimage_header(path))
        direct = open_without_bioio(path)
        if direct is not None:
            return _direct_header(path, direct)
        if chain is not None:
            return fallback.header(path, chain, lambda: _bioimage_header(path))
        return _bioimage_header(path)

    def open_array(self, path: Path, info: ImageInfo) -> Any:
        """Lazy dask array of one scene (level 0), axes in ``info.dim_order``.

        Raises:
            ImageLoadError: when the file cannot be opened or no longer matches ``info``.
        """
        library = fallback.reader_for(info)
        if library is not None:
            return library.open_array(path, info)
        return open_level(path, info, 0)

    def read_array(self, path: Path, info: ImageInfo) -> np.ndarray:
        """One scene (level 0) in memory, axes in ``info.dim_order``.

        Raises:
            ImageLoadError: when the file cannot be read or no longer matches ``info``.
        """
        library = fallback.reader_for(info)
        if library is not None:
            return library.read_array(path, info)
        return read_scene(path, info)

    def open_thumbnail_array(self, path: Path, info: ImageInfo, min_side: int = 64) -> Any:
        """Lazy array of the smallest resolution level with a side of at least ``min_side``.

        Returns ``None`` when the scene has no lower level that large.

        Raises:
            ImageLoadError: when the file cannot be opened.
        """
        library = fallback.reader_for(info)
        if library is not None:
            return library.open_thumbnail_array(path, info, min_side)
        handle = BioioHandle(path, info.child_id, 0)
        try:
            plan = handle.checked_plan(info)
            best = None
            for level in handle.image.resolution_levels[1:]:
                with quiet_ome_types():
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
        return None if best is None else open_level(path, info, best)


def _bioimage_header(path: Path) -> list[ImageInfo]:
    """The headers of ``path`` as bioio and the first plugin that opens it give them."""
    image, plugin = open_bioimage(path)
    try:
        with quiet_ome_types():
            scenes = list(image.scenes)
            if not scenes:  # e.g. a TIFF whose first-page offset points nowhere
                raise ImageLoadError(
                    f"cannot read '{path.name}' with {plugin}: the file holds no image "
                    "(no scene); check that it is not corrupt or truncated"
                )
            infos = [
                _scene_info(path, image, plugin, scene, scene if len(scenes) > 1 else None)
                for scene in scenes
            ]
    except Exception as exc:
        close_opened(image)
        raise load_error(path, plugin, exc) from exc
    keep_recent(path, (image, plugin))
    return infos


def _direct_header(path: Path, direct: DirectFile) -> list[ImageInfo]:
    """The headers of a file the direct route opened; the file is kept for its pixels."""
    several = len(direct.scenes) > 1
    try:
        infos = [
            # bioio reads no pyramid of these files: one resolution level
            image_info(direct.plugin, direct.ids[i] if several else None, direct.scenes[i], 1)
            for i in range(len(direct.scenes))
        ]
    except Exception as exc:
        direct.close()
        raise load_error(path, direct.plugin, exc) from exc
    keep_recent(path, direct)
    return infos


def _scene_info(path: Path, image: Any, plugin: str, scene: str, child_id: str | None) -> ImageInfo:
    image.set_scene(scene)
    sizes, units = image.physical_pixel_sizes, None
    facts: dict[str, str] = {}
    index = image.current_scene_index
    if plugin == OME_PLUGIN:  # sizes as the OME-XML states them, in its units
        ome_image = image.ome_metadata.images[index]
        units = ome_size_units(ome_image.pixels)
        _, _, facts = _tiff_facts(path, index, ome_image.name)
    elif plugin == TIFF_PLUGIN:  # by PixelPatrol's TIFF rules, as on the direct route
        sizes, units, facts = _tiff_facts(path, index)
    elif "nd2" in plugin:
        facts = _nd2_facts(path)
    described = ReaderScene(
        image.dims.order,
        tuple(image.dims.shape),
        np.dtype(image.dtype),
        sizes,
        image.channel_names,
        units,
        declared_bit_depth(image, plugin),
        facts,
    )
    return image_info(plugin, child_id, described, len(image.resolution_levels))


def _tiff_facts(
    path: Path, index: int, name: str | None = None
) -> tuple[ZYX, ZYXUnits, dict[str, str]]:
    """Pixel sizes, their units and the loader columns of series ``index`` of the TIFF
    ``path``, by the rules the direct route applies (nothing where tifffile cannot say).
    """
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            sizes, units = tiff_pixel_sizes(tif, index)
            return sizes, units, series_facts(tif.series[index], name)
    except Exception as exc:
        logger.debug("'%s': nothing read from its TIFF tags: %s", path.name, exc)
        return (None, None, None), (None, None, None), {}


def _nd2_facts(path: Path) -> dict[str, str]:
    """The loader columns of the ND2 file ``path`` from the nd2 library (which bioio-nd2
    reads it with): ``compression``, from its ``compressionType`` (``none`` when null)."""
    try:
        import nd2

        with nd2.ND2File(path) as f:
            kind = f.attributes.compressionType if f.attributes is not None else None
    except Exception as exc:
        logger.debug("'%s': no compression read with nd2: %s", path.name, exc)
        return {}
    return {"compression": str(kind or "none").lower()}


LOADER = BioioLoader()
"""The instance registered under the ``pixel_patrol.loaders`` entry point ``bioio``."""
