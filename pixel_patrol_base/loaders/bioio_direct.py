"""bioio's own answers for the commonest files, read without bioio's machinery.

For a TIFF, which bioio reads with bioio-ome-tiff when it carries OME-XML and with
bioio-tifffile otherwise, and for a single-frame PNG, JPEG, BMP or GIF, which it reads
with bioio-imageio, the :mod:`.bioio_loader` takes the header and the pixels from here:
the same tifffile, ome-types and imageio calls those plugins make, and the same rules for
axes, pixel sizes, channel names and scene ids, without what bioio wraps around them (an
xarray and a Dask graph per image, its dimension transform, the file opened and its
OME-XML parsed several times). For a small image that wrapping costs more than decoding
it, and importing bioio (with Dask, xarray and pandas) costs about a second per shard job,
which a job holding only such files no longer pays.

Only the plain cases are answered here. Anything else (OME-XML that ome-types rejects or
that bioio-ome-tiff would first rewrite, a MicroManager stack, axes outside ``TCZYXS``,
sizes that disagree with the OME-XML, a multi-frame or video file, a file that fails to
open) gives ``None``, and the loader asks bioio itself, so such files keep bioio's
behaviour and its error messages. ``tests/loaders/test_bioio_direct.py`` checks file by
file that both routes give the same header and the same pixels.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

TIFF_PLUGIN = "bioio-tifffile"
IMAGEIO_PLUGIN = "bioio-imageio"
OME_PLUGIN = "bioio-ome-tiff"

STANDARD_AXES = "TCZYX"
"""bioio's axes for every image; ``S`` (samples) is appended when the reader has it."""

_VIDEO_EXTENSIONS = frozenset({"mov", "avi", "mpg", "mpeg", "mp4", "mkv", "wmv", "ogg"})
"""Extensions bioio-imageio reads frame by frame through ffmpeg: never answered here."""

_UNKNOWN_AXES = "QI"
"""tifffile's letters for an axis it cannot name; bioio-tifffile guesses those."""

_MICRONS_PER_UNIT: Mapping[Any, float] = {
    None: 1.0,
    1: 1.0,  # tifffile.RESUNIT.NONE
    2: 2.54e4,  # RESUNIT.INCH
    3: 1e4,  # RESUNIT.CENTIMETER
    4: 1e3,  # RESUNIT.MILLIMETER
    5: 1.0,  # RESUNIT.MICROMETER
    "pm": 1e-6,
    "picometer": 1e-6,
    "nm": 1e-3,
    "nanometer": 1e-3,
    "micron": 1.0,
    "µm": 1.0,
    "um": 1.0,
    "\\u00B5m": 1.0,
    "mm": 1e3,
    "millimeter": 1e3,
    "cm": 1e4,
    "centimeter": 1e4,
    "cal": 2.54e4,
}
"""Micrometres per resolution unit, as bioio-tifffile converts them (others count as 1)."""


@dataclass(frozen=True)
class ReaderScene:
    """One image of a file, as its bioio reader describes it.

    ``axes`` and ``shape`` are the reader's own (before bioio's transform to
    :data:`STANDARD_AXES`); ``pixel_sizes`` are bioio's ``PhysicalPixelSizes`` (Z, Y, X),
    as the file states them.
    """

    axes: str
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    pixel_sizes: tuple[float | None, float | None, float | None]
    channel_names: Sequence[str] | None = None
    """The reader's channel names (``None``: it invents them)."""
    pixel_size_units: tuple[str | None, str | None, str | None] | None = None
    """Units of ``pixel_sizes`` (Z, Y, X) where the file states them (OME-XML); ``None``
    for micrometres, which bioio's other TIFF and picture plugins report."""

    @property
    def standard_axes(self) -> str:
        """The axes bioio presents the image in: any others (mosaic tiles, ``M``) first,
        then ``TCZYX``, then ``S`` when the reader has samples."""
        others = "".join(a for a in self.axes if a not in STANDARD_AXES + "S")
        return others + STANDARD_AXES + ("S" if "S" in self.axes else "")

    @property
    def standard_shape(self) -> tuple[int, ...]:
        """The extents bioio presents the image with (1 for axes the reader lacks)."""
        sizes = dict(zip(self.axes, self.shape, strict=True))
        return tuple(sizes.get(axis, 1) for axis in self.standard_axes)

    def to_standard(self, pixels: np.ndarray) -> np.ndarray:
        """``pixels`` (in the reader's axes) reordered and padded to bioio's axes."""
        order = [self.axes.index(a) for a in self.standard_axes if a in self.axes]
        return pixels.transpose(order).reshape(self.standard_shape)


class DirectFile:
    """An image file bioio would read with ``plugin``, read here without bioio.

    Subclasses fill :attr:`scenes` and implement :meth:`read`; :meth:`close` releases the
    file.
    """

    plugin: str
    scenes: tuple[ReaderScene, ...]
    ids: tuple[str, ...]
    """bioio's scene ids, one per scene."""

    def read(self, index: int) -> np.ndarray:
        """The pixels of scene ``index``, in that scene's reader axes."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the file (idempotent)."""


def open_direct(path: Path, plugins: Sequence[str]) -> DirectFile | None:
    """``path`` read without bioio, when bioio would read it with a plugin handled here.

    Args:
        path: The image file.
        plugins: The installed bioio plugins bioio would try for its extension, in order.

    Returns:
        The open file, or ``None`` when bioio itself must read it (see the module
        docstring for which files those are).
    """
    try:
        if plugins and plugins[0] == IMAGEIO_PLUGIN:
            return _ImageioFile.open(path)
        if plugins and plugins[0] in (OME_PLUGIN, TIFF_PLUGIN):
            return _open_tiff(path, plugins)
    except Exception as exc:  # bioio itself reads the file and reports any error
        logger.debug("'%s' is read through bioio: %s", path.name, exc)
    return None


def _open_tiff(path: Path, plugins: Sequence[str]) -> DirectFile | None:
    """A TIFF read the way the first of ``plugins`` that takes it would read it.

    bioio offers a TIFF to bioio-ome-tiff only when it carries OME-XML, and otherwise to
    the next plugin.
    """
    import tifffile

    tif = tifffile.TiffFile(path, is_mmstack=False)
    try:
        # MicroManager stacks are read differently depending on how the file is opened.
        if tif.is_micromanager or not tif.series:
            opened: DirectFile | None = None
        else:
            first = next((p for p in plugins if p != OME_PLUGIN or tif.is_ome), None)
            if first == OME_PLUGIN:
                opened = _OmeTiffFile.open(tif)
            elif first == TIFF_PLUGIN:
                opened = _TiffFile.open(tif)
            else:
                opened = None
    except Exception:
        tif.close()
        raise
    if opened is None:
        tif.close()
    return opened


class _TiffFile(DirectFile):
    """A TIFF as bioio-tifffile reads it: one scene per tifffile series."""

    plugin = TIFF_PLUGIN

    def __init__(self, tif: Any, scenes: tuple[ReaderScene, ...]) -> None:
        self._tif = tif
        self.scenes = scenes
        self.ids = tuple(_scene_id(i) for i in range(len(scenes)))

    @classmethod
    def open(cls, tif: Any) -> _TiffFile | None:
        """``tif`` (open, with series) as bioio-tifffile reads it; ``None`` when its axes
        are not for here."""
        scenes = [_tiff_scene(tif, i) for i in range(len(tif.series))]
        if any(s is None for s in scenes):
            return None
        return cls(tif, tuple(s for s in scenes if s is not None))

    def read(self, index: int) -> np.ndarray:
        return np.asarray(self._tif.series[index].asarray())

    def close(self) -> None:
        self._tif.close()


class _OmeTiffFile(DirectFile):
    """An OME-TIFF as bioio-ome-tiff reads it: one scene per OME ``Image``, read from the
    tifffile series of the same index and labelled with axes derived from the OME-XML."""

    plugin = OME_PLUGIN

    def __init__(
        self, tif: Any, scenes: tuple[ReaderScene, ...], ids: tuple[str, ...], expand: Any
    ) -> None:
        self._tif = tif
        self.scenes = scenes
        self.ids = ids
        self._expand = expand

    @classmethod
    def open(cls, tif: Any) -> _OmeTiffFile | None:
        """``tif`` (open, with OME-XML) as bioio-ome-tiff reads it; ``None`` when
        bioio-ome-tiff would refuse it, rewrite its OME-XML first, or fail on it."""
        import warnings

        import ome_types

        xml = tif.pages[0].description
        if any(ref in xml for ref in _OLD_OME_SCHEMAS):
            return None  # bioio-ome-tiff rewrites these schema references first
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bioio's reading would warn the same
            ome = ome_types.from_xml(xml)
        if ome.binary_only or len(ome.images) > len(tif.series):
            return None
        ids = tuple(str(image.id) for image in ome.images)
        if not ids or not all(i.startswith("Image") for i in ids):
            return None  # bioio-ome-tiff renames such images first
        described = [_ome_scene(tif, ome.images[i].pixels, i) for i in range(len(ids))]
        if any(d is None for d in described):
            return None
        found = [d for d in described if d is not None]
        return cls(tif, tuple(d[0] for d in found), ids, tuple(d[1] for d in found))

    def read(self, index: int) -> np.ndarray:
        return np.asarray(np.asarray(self._tif.series[index].asarray())[self._expand[index]])

    def close(self) -> None:
        self._tif.close()


def ome_size_units(pixels: Any) -> tuple[str | None, str | None, str | None]:
    """The units of an ome-types ``Pixels``' physical sizes (Z, Y, X)."""

    def unit(value: Any) -> str | None:  # an ome-types UnitsLength, e.g. "nm"
        return None if value is None else str(getattr(value, "value", value))

    z, y, x = (getattr(pixels, f"physical_size_{a}_unit") for a in "zyx")
    return unit(z), unit(y), unit(x)


_OLD_OME_SCHEMAS = (
    "www.openmicroscopy.org/Schemas/ome/2013-06",
    "www.openmicroscopy.org/Schemas/OME/2012-03",
)
"""Schema references bioio-ome-tiff replaces before parsing (files written by old tools)."""


def _ome_scene(tif: Any, pixels: Any, index: int) -> tuple[ReaderScene, Any] | None:
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
    if len(shape) != len(axes) or not _standard("".join(axes)):
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
    )
    return scene, expand


def samples_as_channels(axes: str, samples_declared: bool) -> str:
    """tifffile's axes of an OME-TIFF series as bioio-ome-tiff labels them: the samples
    axis is read as the channels when the OME-XML declares channels but no samples."""
    if "S" in axes and not samples_declared and "C" not in axes:
        return axes.replace("S", "C")
    return axes


def read_tiff_series(path: Path, index: int) -> tuple[np.ndarray, str]:
    """Series ``index`` of a TIFF as bioio's TIFF plugins decode it, and tifffile's axes."""
    import tifffile

    with tifffile.TiffFile(path, is_mmstack=False) as tif:
        series = tif.series[index]
        return np.asarray(series.asarray()), series.axes


def _tiff_scene(tif: Any, index: int) -> ReaderScene | None:
    series = tif.series[index]
    shape = tuple(int(n) for n in series.shape)
    axes = _tiff_axes(series.axes, shape)
    if not _standard(axes):
        return None
    return ReaderScene(axes, shape, np.dtype(series.dtype), _tiff_pixel_sizes(tif, index))


def _tiff_axes(axes: str, shape: tuple[int, ...]) -> str:
    """bioio-tifffile's axes: tifffile's, with unknown letters replaced by guesses.

    The guess is bioio's default for the number of axes (the last ``len(shape)`` letters
    of ``TCZYX``); each unknown letter takes the first guessed letter not yet used.
    """
    if not any(a in _UNKNOWN_AXES for a in axes):
        return axes
    guessed = STANDARD_AXES[len(STANDARD_AXES) - len(shape) :]
    chosen: list[str] = []
    for letter in axes:
        if letter not in _UNKNOWN_AXES:
            chosen.append(letter)
            continue
        free = [g for g in guessed if g not in chosen and g not in axes]
        chosen.append(free[0] if free else letter)
    return "".join(chosen)


def _tiff_pixel_sizes(tif: Any, index: int) -> tuple[float | None, float | None, float | None]:
    """bioio-tifffile's physical pixel sizes (Z, Y, X) in micrometres.

    From the resolution tags of the series' first page (pixels per unit, so a pixel's
    size is the inverse) and, in an ImageJ file, its ``unit`` and ``spacing``. When any
    of these is missing or unusable, bioio-tifffile gives no size at all.
    """
    try:
        tags = tif.series[index].pages[0].tags
        if tif.is_imagej:
            unit = tif.imagej_metadata["unit"]
            z_size = tif.imagej_metadata.get("spacing", None)
        else:
            unit = tags["ResolutionUnit"].value
            z_size = None
        scale = _MICRONS_PER_UNIT.get(unit, 1.0)
        x_pixels, x_units = tags["XResolution"].value
        y_pixels, y_units = tags["YResolution"].value
        sizes = (
            None if z_size is None else z_size * scale,
            scale * y_units / y_pixels,
            scale * x_units / x_pixels,
        )
    except Exception as exc:
        logger.debug("no pixel size in series %d: %s", index, exc)
        return None, None, None
    return sizes


class _ImageioFile(DirectFile):
    """A single-frame image as bioio-imageio reads it: decoded whole when opened."""

    plugin = IMAGEIO_PLUGIN

    def __init__(self, pixels: np.ndarray, axes: str) -> None:
        self._pixels = pixels
        shape = tuple(int(n) for n in pixels.shape)
        self.scenes = (ReaderScene(axes, shape, pixels.dtype, (None, None, None)),)
        self.ids = (_scene_id(0),)

    @classmethod
    def open(cls, path: Path) -> _ImageioFile | None:
        import imageio

        extension = path.name.split(".")[-1]
        if extension in _VIDEO_EXTENSIONS:
            return None
        with path.open("rb") as handle:
            # imageio's legacy reader API, exactly as bioio-imageio calls it (untyped).
            reader: Any = imageio.get_reader(handle, format=extension, mode="?")
            with reader:
                if reader.get_length() != 1:
                    return None
                pixels = np.asarray(reader.get_data(0))
        axes = _imageio_axes(pixels.shape)
        if axes is None or not _standard(axes):
            return None
        return cls(pixels, axes)

    def read(self, index: int) -> np.ndarray:
        return self._pixels

    def close(self) -> None:
        self._pixels = np.empty(0, dtype=self._pixels.dtype)


def _imageio_axes(shape: tuple[int, ...]) -> str | None:
    """bioio-imageio's guess of a frame's axes (``None`` where it has none)."""
    if len(shape) == 2:
        return "YX"
    if len(shape) == 3:
        return "TYX" if shape[-1] > 4 else "YXS"
    if len(shape) == 4 and shape[-1] <= 4:
        return "TYXS"
    return None


def _scene_id(index: int) -> str:
    """bioio's id of scene ``index`` when the file has no ids of its own."""
    return f"Image:{index}"


def _standard(axes: str) -> bool:
    """Whether ``axes`` make an image bioio's transform keeps whole: distinct letters of
    TCZYXS, Y and X among them."""
    letters = set(axes)
    return len(letters) == len(axes) and set("YX") <= letters <= set(STANDARD_AXES + "S")
