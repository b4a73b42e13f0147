"""The ``tifffile`` loader: TIFF, OME-TIFF, ImageJ hyperstacks and other TIFF flavours.

The light, fast loader. Each tifffile *series* is one image (``child_id`` its index, as a
string, when the file holds more than one); reduced-resolution thumbnail series are
skipped, and pyramid levels of a series are not images of their own but serve the
thumbnail. Axes come from tifffile's series axes (ImageJ, OME, shaped or generic) and
are mapped by :mod:`.axes`: a plain multi-page TIFF (``QYX`` or ``IYX``) becomes ZYX, as
in bioio-tifffile.

Header metadata: pixel sizes, channel names and ``SignificantBits`` (the
``declared_bit_depth`` column) from the OME-XML (parsed with the
standard library, as tifffile itself does); elsewhere pixel sizes by the rule of
:mod:`.tiff_tags`: an ImageJ file's resolution tags, ``spacing`` and ``unit``, a plain
TIFF's resolution tags only in centimetres, millimetres or micrometres (never a dpi
screen resolution, never a unit the file does not state).

Pixels: a whole image is read with ``series.asarray`` (tifffile decodes pages in
parallel); a part of it (one plane, a band of rows of a huge plane) through tifffile's
Zarr store, which decodes only the tiles or strips it needs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np

from pixel_patrol_base.errors import ImageLoadError
from pixel_patrol_base.loaders.axes import (
    AxisError,
    AxisPlan,
    SourceKey,
    harmonise_pixel_sizes,
    plan_axes,
)
from pixel_patrol_base.loaders.common import (
    channel_names_or_none,
    check_unchanged,
    load_error,
    size_of,
)
from pixel_patrol_base.loaders.lazy import BlockSource, as_dask, file_token
from pixel_patrol_base.loaders.manifest import TIFFFILE_METADATA
from pixel_patrol_base.loaders.tiff_tags import series_facts, tiff_pixel_sizes
from pixel_patrol_base.plugins.contracts import ImageInfo

logger = logging.getLogger(__name__)

READER = "tifffile"
METADATA = TIFFFILE_METADATA
EXTENSIONS = METADATA.extensions


class TifffileLoader:
    """Reads TIFF files with tifffile (see the module docstring)."""

    id = METADATA.id
    version = METADATA.version
    extensions: frozenset[str] = EXTENSIONS

    def read_header(self, path: Path) -> list[ImageInfo]:
        """One :class:`ImageInfo` per tifffile series, without decoding pixels.

        Raises:
            ImageLoadError: when the file is not a readable TIFF.
        """
        import tifffile

        try:
            with tifffile.TiffFile(path) as tif:
                series = _images(tif)
                if not series:
                    raise ImageLoadError(f"'{path.name}' holds no image (no TIFF series)")
                ome = _ome_images(tif.ome_metadata) if tif.is_ome else []
                if len(ome) != len(series):
                    ome = [{} for _ in series]
                imagej = tif.imagej_metadata if tif.is_imagej else None
                infos = [
                    _info(s, i if len(series) > 1 else None, meta, imagej)
                    for i, (s, meta) in enumerate(zip(series, ome, strict=True))
                ]
        except Exception as exc:
            raise load_error(path, READER, exc) from exc
        return infos

    def open_array(self, path: Path, info: ImageInfo) -> Any:
        """Lazy dask array of one series (level 0), axes in ``info.dim_order``.

        Raises:
            ImageLoadError: when the file cannot be opened or no longer matches ``info``.
        """
        return _open_level(path, info, 0)

    def read_array(self, path: Path, info: ImageInfo) -> np.ndarray:
        """One series (level 0) in memory, axes in ``info.dim_order``.

        Raises:
            ImageLoadError: when the file cannot be read or no longer matches ``info``.
        """
        return _source(path, info, 0).read_all()

    def open_thumbnail_array(self, path: Path, info: ImageInfo, min_side: int = 64) -> Any:
        """Lazy array of the smallest pyramid level with a side of at least ``min_side``.

        Returns ``None`` when the series has no lower level that large.

        Raises:
            ImageLoadError: when the file cannot be opened.
        """
        handle = _open_handle(path, info, 0)
        try:
            plan = _checked_plan(path, handle.series, info)
            best = None
            for level, sub in enumerate(handle.series.levels[1:], start=1):
                shape = plan.with_source_shape(sub.shape).shape
                if max(shape[plan.dim_order.index(a)] for a in "YX") >= min_side:
                    best = level
        finally:
            handle.close()
        return None if best is None else _open_level(path, info, best)


def _open_handle(path: Path, info: ImageInfo, level: int) -> _TiffHandle:
    try:
        return _TiffHandle(path, 0 if info.child_id is None else int(info.child_id), level)
    except Exception as exc:
        raise load_error(path, READER, exc) from exc


def _checked_plan(path: Path, series: Any, info: ImageInfo) -> AxisPlan:
    """The axis plan of a level-0 series, checked against the header read before."""
    try:
        plan = plan_axes(series.axes, series.shape)
    except AxisError as exc:
        raise load_error(path, READER, exc) from exc
    check_unchanged(path, info, plan.dim_order, plan.shape)
    return plan


def _source(path: Path, info: ImageInfo, level: int) -> _TiffSource:
    handle = _open_handle(path, info, level)
    try:
        plan = _checked_plan(path, handle.series, info)
        if level:
            plan = plan.with_source_shape(handle.level.shape)
        source = _TiffSource(path, plan, info.dtype, handle.series_index, level)
    except Exception:
        handle.close()
        raise
    source.adopt(handle)
    return source


def _open_level(path: Path, info: ImageInfo, level: int) -> Any:
    source = _source(path, info, level)
    return as_dask(
        source,
        (READER, *file_token(path), info.child_id, level),
        lambda: source.plan.source_chunks(source.handle().zarr().chunks),
    )


def _info(
    series: Any,
    child_id: int | None,
    ome: Mapping[str, Any],
    imagej: Mapping[str, Any] | None,
) -> ImageInfo:
    plan = plan_axes(series.axes, series.shape)
    sizes: dict[str, tuple[float | None, str | None]] = dict(ome.get("sizes", {}))
    if not sizes and not ome:  # an OME-XML states its sizes, or none
        sizes = tiff_pixel_sizes(series.keyframe.tags, imagej)
    pixel_sizes, unit = harmonise_pixel_sizes(
        {a: v for a, v in sizes.items() if a in plan.dim_order or a in "YX"}
    )
    n_channels = size_of(plan.dim_order, plan.shape, "C")
    extra: dict[str, Any] = {
        "resolution_levels": len(series.levels),
        "format_reader": READER,
    }
    if "significant_bits" in ome:
        extra["declared_bit_depth"] = ome["significant_bits"]
    extra.update(series_facts(series, ome.get("name")))
    return ImageInfo(
        child_id=None if child_id is None else str(child_id),
        dim_order=plan.dim_order,
        shape=plan.shape,
        dtype=np.dtype(series.dtype).newbyteorder("=").name,
        pixel_sizes=pixel_sizes,
        pixel_size_unit=unit,
        channel_names=channel_names_or_none(ome.get("channels"), n_channels),
        extra=extra,
    )


def _images(tif: Any) -> list[Any]:
    """The series that are images, in file order.

    Reduced-resolution thumbnail series (as in LSM files) are left out unless nothing else
    remains; pyramid levels belong to their series and are not series of their own.
    """
    series = list(tif.series)
    full = [s for s in series if not getattr(s.keyframe, "is_reduced", False)]
    return full or series


def _ome_images(xml: str | None) -> list[dict[str, Any]]:
    """Name, pixel sizes, channel names and significant bits of each OME ``Image`` that
    has ``Pixels``."""
    if not xml:
        return []
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        logger.debug("OME-XML does not parse (%s); OME metadata is ignored", exc)
        return []
    images = []
    for image in root:
        if not image.tag.endswith("}Image") and image.tag != "Image":
            continue
        pixels = next((p for p in image if p.tag.endswith("Pixels")), None)
        if pixels is None:
            continue
        attrs = pixels.attrib
        sizes = {
            axis: (float(attrs[f"PhysicalSize{axis}"]), attrs.get(f"PhysicalSize{axis}Unit", "µm"))
            for axis in "XYZ"
            if f"PhysicalSize{axis}" in attrs
        }
        channels = [c.attrib.get("Name") for c in pixels if c.tag.endswith("Channel")]
        entry: dict[str, Any] = {
            "name": image.attrib.get("Name"),
            "sizes": sizes,
            "channels": channels,
        }
        bits = attrs.get("SignificantBits", "")
        if bits.isdigit() and int(bits) > 0:
            entry["significant_bits"] = int(bits)
        images.append(entry)
    return images


class _TiffHandle:
    """An open TiffFile, the chosen series level, and its Zarr view made on demand."""

    def __init__(self, path: Path, series: int, level: int) -> None:
        import tifffile

        self.tif = tifffile.TiffFile(path)
        try:
            self.tif.filehandle.set_lock(True)  # dask threads share this handle
            self.series = _images(self.tif)[series]
            self.level = self.series.levels[level]
        except Exception:
            self.tif.close()
            raise
        self.series_index = series
        self.level_index = level
        self._zarr: Any = None
        self._store: Any = None
        self._lock = threading.Lock()

    def zarr(self) -> Any:
        """The level as a read-only Zarr array (decodes only the tiles it is asked for)."""
        with self._lock:
            if self._zarr is None:
                import zarr

                self._store = self.series.aszarr(level=self.level_index)
                self._zarr = zarr.open_array(self._store, mode="r")
            return self._zarr

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
        self.tif.close()


class _TiffSource(BlockSource):
    reader = READER

    def __init__(self, path: Path, plan: AxisPlan, dtype: str, series: int, level: int) -> None:
        super().__init__(path, plan, dtype)
        self.series_index = series
        self.level = level

    def _open(self) -> _TiffHandle:
        return _TiffHandle(self.path, self.series_index, self.level)

    def _read(self, handle: _TiffHandle, key: SourceKey) -> Any:
        if self.is_full(key):
            return handle.level.asarray()
        return handle.zarr()[key]


LOADER = TifffileLoader()
"""The instance registered under the ``pixel_patrol.loaders`` entry point ``tifffile``."""
