"""The rules for axes, pixel sizes, units and channel names, as bioio's plugins apply them.

Belongs here: how each plugin labels a file's axes (tifffile's letters with guesses,
the OME-XML's dimension order, imageio's guess from the shape), which physical pixel
sizes it reports and in which units (TIFF resolution tags, ImageJ metadata, OME-XML),
and :func:`image_info`, the header of one scene built from those answers by the same
rule on both routes. Not here: opening or reading files (:mod:`.tiff`, :mod:`.picture`,
:mod:`.routes`).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from pixel_patrol_base.loaders.axes import (
    AxisError,
    canonical_letters,
    harmonise_pixel_sizes,
    plan_axes,
)
from pixel_patrol_base.loaders.bioio.scene import (
    OME_PLUGIN,
    ReaderScene,
    is_standard,
)
from pixel_patrol_base.loaders.common import channel_names_or_none, size_of
from pixel_patrol_base.loaders.tiff_tags import tiff_pixel_sizes as sizes_from_tags
from pixel_patrol_base.plugins.contracts import ImageInfo

logger = logging.getLogger(__name__)

_UNKNOWN_AXES = "QI"
"""tifffile's letters for an axis it cannot name; bioio-tifffile guesses those."""


def image_info(plugin: str, child_id: str | None, scene: ReaderScene, levels: int) -> ImageInfo:
    """The header of one scene from what bioio reports (see :class:`ReaderScene`).

    Args:
        plugin: The bioio plugin that read (or would read) the file.
        child_id: The scene id, ``None`` when the file holds one scene.
        scene: The scene as the reader describes it.
        levels: Number of resolution levels.
    """
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
        extra={
            "resolution_levels": levels,
            "format_reader": plugin,
            **({"declared_bit_depth": bits} if (bits := scene.significant_bits) else {}),
            **scene.facts,
        },
    )


def positive_int(value: Any) -> int | None:
    """``value`` as a positive int, ``None`` when it is not one."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 and number == value else None


def declared_bit_depth(image: Any, plugin: str) -> int | None:
    """The significant bits per sample a file read by bioio declares, where it does.

    OME (bioio-ome-tiff): ``Pixels@SignificantBits`` of the current scene. ND2
    (bioio-nd2): the same OME field where the plugin's ``metadata`` is OME (bioio-nd2 2.x
    fills it from the file's ``bitsPerComponentSignificant``), else
    ``bitsPerComponentSignificant`` of the first channel's volume, wherever the reader's
    ``metadata`` holds it (the nd2 library's own objects). CZI (bioio-czi): the XML's
    ``Information/Image/ComponentBitCount``. Anything unreadable gives ``None``.
    """
    try:
        if plugin == OME_PLUGIN:
            pixels = image.ome_metadata.images[image.current_scene_index].pixels
            return positive_int(pixels.significant_bits)
        if "nd2" in plugin:
            metadata = image.metadata
            if hasattr(metadata, "images"):  # an ome-types OME
                pixels = metadata.images[image.current_scene_index].pixels
                return positive_int(pixels.significant_bits)
            return positive_int(_find_key(metadata, "bitsPerComponentSignificant"))
        if "czi" in plugin:
            node = image.metadata.find(".//Information/Image/ComponentBitCount")
            return positive_int(int(node.text)) if node is not None else None
    except Exception as exc:
        logger.debug("no declared bit depth from %s: %s", plugin, exc)
    return None


def _find_key(value: Any, key: str, depth: int = 6) -> Any:
    """The first ``key`` in nested dicts, lists or objects (breadth by insertion order)."""
    if depth < 0 or value is None or isinstance(value, str | bytes | int | float):
        return None
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list | tuple):
        items = list(enumerate(value))
    else:
        items = list(getattr(value, "__dict__", {}).items())
    for name, item in items:
        if name == key:
            return item
    for _, item in items:
        found = _find_key(item, key, depth - 1)
        if found is not None:
            return found
    return None


def ome_size_units(pixels: Any) -> tuple[str | None, str | None, str | None]:
    """The units of an ome-types ``Pixels``' physical sizes (Z, Y, X)."""

    def unit(value: Any) -> str | None:  # an ome-types UnitsLength, e.g. "nm"
        return None if value is None else str(getattr(value, "value", value))

    z, y, x = (getattr(pixels, f"physical_size_{a}_unit") for a in "zyx")
    return unit(z), unit(y), unit(x)


def ome_scene(tif: Any, pixels: Any, index: int) -> tuple[ReaderScene, Any] | None:
    """One OME image as bioio-ome-tiff sees it, and the index that expands tifffile's
    array of it to those axes (``None`` when the two disagree).

    The OME-XML's dimension order gives the axes (samples last, or as the channels when
    there are as many samples as channels). tifffile's series gives the array and the
    order of the axes it holds (its samples read as channels when the OME-XML has
    channels but no samples); the axes it lacks come first, with the OME-XML's sizes,
    which must then be 1.
    """
    channels = pixels.channels
    n_samples = int(channels[0].samples_per_pixel or 0) if channels else 0
    several = n_samples > 1
    declared = list(pixels.dimension_order.value[::-1])
    if several and "S" not in declared:
        if len(channels) != n_samples:
            declared.append("S")
        else:
            declared = [d for d in declared if d != "C"] + ["C"]
    series = tif.series[index]
    held = list(samples_as_channels(series.axes, "S" in declared))  # OME always has C
    axes = [d for d in declared if d not in held] + [d for d in held if d in declared]
    sizes = []
    for axis in axes:
        if axis == "C" and several:
            sizes.append(len(channels))
        elif axis == "S" and several:
            sizes.append(n_samples)
        else:
            sizes.append(int(getattr(pixels, f"size_{axis.lower()}")))
    expand = tuple(None if n == 1 else slice(None) for n in sizes)
    shape = np.broadcast_to(np.empty((), np.uint8), series.shape)[expand].shape
    if len(shape) != len(axes) or not is_standard("".join(axes)):
        return None
    names = [c.name if c.name is not None else c.id for c in channels]
    if len(names) != (shape[axes.index("C")] if "C" in axes else 1):
        return None  # bioio-ome-tiff cannot label the channels: it fails on this image
    sizes_zyx = (pixels.physical_size_z, pixels.physical_size_y, pixels.physical_size_x)
    scene = ReaderScene(
        "".join(axes),
        tuple(int(n) for n in shape),
        np.dtype(series.dtype),
        sizes_zyx,
        names,
        ome_size_units(pixels),
        positive_int(pixels.significant_bits),
    )
    return scene, expand


def samples_as_channels(axes: str, samples_declared: bool) -> str:
    """tifffile's axes of an OME-TIFF series as bioio-ome-tiff labels them: the samples
    axis is read as the channels when the OME-XML declares channels but no samples."""
    if "S" in axes and not samples_declared and "C" not in axes:
        return axes.replace("S", "C")
    return axes


def tiff_axes(axes: str, shape: tuple[int, ...]) -> str:
    """tifffile's axes of a TIFF series, with unknown letters named by PixelPatrol's axis
    rules (:func:`~pixel_patrol_base.loaders.axes.canonical_letters`), as the
    ``tifffile`` loader names them.

    This departs from bioio-tifffile, which names unknown axes by the number of axes
    (the last ``len(shape)`` letters of ``TCZYX``): a 4-D page stack ``QQYX`` is ``CZYX``
    there, ``TZYX`` here, and two RGB pages ``QYXS`` are ``CYXS`` there and ``ZYXS`` here.
    The direct route's equivalence tests list these departures. Axes that cannot be named
    so come back as they are (bioio then reads the file).
    """
    if not any(a in _UNKNOWN_AXES for a in axes):
        return axes
    try:
        return canonical_letters(axes, shape) or axes
    except AxisError:
        return axes


ZYX = tuple[float | None, float | None, float | None]
ZYXUnits = tuple[str | None, str | None, str | None]


def tiff_pixel_sizes(tif: Any, index: int) -> tuple[ZYX, ZYXUnits]:
    """The pixel sizes (Z, Y, X) of series ``index`` of a TIFF, and their units.

    By PixelPatrol's rule (:mod:`pixel_patrol_base.loaders.tiff_tags`), not
    bioio-tifffile's, which reads a dpi screen resolution or a unitless file as
    micrometres: the same file gets the same sizes from every loader.
    """
    try:
        tags = tif.series[index].keyframe.tags
        sizes = sizes_from_tags(tags, tif.imagej_metadata if tif.is_imagej else None)
    except Exception as exc:
        logger.debug("no pixel size in series %d: %s", index, exc)
        sizes = {}
    (z, zu), (y, yu), (x, xu) = (sizes.get(axis, (None, None)) for axis in "ZYX")
    return (z, y, x), (zu, yu, xu)


def imageio_axes(shape: tuple[int, ...]) -> str | None:
    """bioio-imageio's guess of a frame's axes (``None`` where it has none)."""
    if len(shape) == 2:
        return "YX"
    if len(shape) == 3:
        return "TYX" if shape[-1] > 4 else "YXS"
    if len(shape) == 4 and shape[-1] <= 4:
        return "TYXS"
    return None
