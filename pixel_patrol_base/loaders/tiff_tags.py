"""What a TIFF's tags say, read by one rule for every loader that reads TIFFs.

``tifffile``, and ``bioio`` on both of its routes, use these, so that the same file gets
the same header whichever reads it: the ``image_name`` and ``compression`` columns
(:func:`series_facts`) and the physical pixel sizes of a TIFF that is not OME
(:func:`tiff_pixel_sizes`), never with an invented unit:

- **ImageJ TIFF:** the ``unit`` of its ImageJ metadata, X and Y from the resolution tags
  (pixels per unit, so a pixel's size is the inverse), Z from ``spacing``. No unit, an
  empty one, ``pixel`` or a unit that is not a length gives no size.
- **Plain TIFF:** the resolution tags when ``ResolutionUnit`` is centimetre, millimetre
  or micrometre, in micrometres. ``NONE`` states no unit, and ``INCH`` (also the TIFF
  default when the tag is missing) holds a print or screen resolution such as 72 or
  96 dpi, not the size of what was imaged: no size.

bioio-tifffile reads both as micrometres (a 96 dpi scan becomes a 264.58 µm pixel, a
unitless or ``pixel`` file 1 µm per pixel); PixelPatrol leaves them null.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pixel_patrol_base.loaders.axes import normalise_unit

MICRONS_PER_RESOLUTION_UNIT: Mapping[int, float] = {3: 1e4, 4: 1e3, 5: 1.0}
"""Micrometres per TIFF ``ResolutionUnit`` that states a length (cm, mm, µm)."""

Sizes = dict[str, tuple[float | None, str | None]]
"""Axis -> (size, unit), as :func:`pixel_patrol_base.loaders.axes.harmonise_pixel_sizes`
takes them."""


def tiff_pixel_sizes(tags: Any, imagej: Mapping[str, Any] | None) -> Sizes:
    """The pixel sizes the tags of a TIFF's first page (and its ImageJ metadata) state.

    Args:
        tags: The page's ``TiffTags`` (``series.keyframe.tags``).
        imagej: The file's ImageJ metadata, ``None`` for a file that is not ImageJ's.

    Returns:
        Axis -> (size, unit); empty when the file states no physical size.
    """
    if imagej is not None:
        unit = imagej.get("unit")
        if not isinstance(unit, str) or normalise_unit(unit) is None:
            return {}  # no unit, "pixel", or not a length
        sizes: Sizes = {axis: (size, unit) for axis, size in _resolution(tags).items()}
        spacing = imagej.get("spacing")
        if isinstance(spacing, int | float):
            sizes["Z"] = (float(spacing), unit)
        return sizes
    unit_tag = tags.get("ResolutionUnit")
    try:
        microns = MICRONS_PER_RESOLUTION_UNIT.get(int(unit_tag.value)) if unit_tag else None
    except (TypeError, ValueError):
        microns = None
    if microns is None:
        return {}
    return {axis: (size * microns, "µm") for axis, size in _resolution(tags).items()}


def _resolution(tags: Any) -> dict[str, float]:
    """Size of a pixel along X and Y in the resolution unit (the inverse of pixels/unit)."""
    out = {}
    for axis, name in (("X", "XResolution"), ("Y", "YResolution")):
        tag = tags.get(name)
        try:
            pixels, units = tag.value
            if pixels and units:
                out[axis] = units / pixels
        except (AttributeError, TypeError, ValueError):
            continue
    return out


def compression_name(series: Any) -> str:
    """The compression of a tifffile series' pixels, lower case (``'none'``, ``'lzw'``,
    ``'zlib'``...); ``'unknown'`` where the file does not say.

    A keyframe may hold the TIFF tag's number rather than tifffile's enum; both give
    the enum's name, and a number tifffile does not know gives the number.
    """
    code = getattr(getattr(series, "keyframe", None), "compression", None)
    if code is None:
        return "unknown"
    name = getattr(code, "name", None)
    if name is None:
        import tifffile

        try:
            name = tifffile.COMPRESSION(int(code)).name
        except (TypeError, ValueError):
            name = str(code)
    return str(name).lower()


def series_facts(series: Any, name: str | None = None) -> dict[str, str]:
    """The loader columns a tifffile series gives: ``compression``, and ``image_name``
    (``name``, an OME ``Image@Name``, else tifffile's series name) where there is one."""
    facts = {"compression": compression_name(series)}
    name = name or getattr(series, "name", None)
    if name:
        facts["image_name"] = str(name)
    return facts
