"""Leica LIF files read with liffile, the library bioio-lif is built on.

Every image (series) of the file is one image; its id is its name, or its path inside
the file when names repeat. Axes are liffile's: T, C, Z, Y, X and S as they are; the
emission and excitation wavelength sweeps (λ, Λ) and mosaic tiles (M) are placed by the
axis rules (:mod:`pixel_patrol_base.loaders.axes`: a wavelength prefers C, a tile axis
T), and the row says where they went. An XZ or XT scan stores no Y axis: the frame's
other axis is reported as Y, and the row says so. Pixel sizes come from the XML's
``DimensionDescription`` (``Length / (NumberOfElements - 1)`` in its ``Unit``), the
declared bit depth from the channels' ``Resolution``; ``image_name`` is the series name,
``compression`` ``none`` (LIF stores raw pixels).
"""

from __future__ import annotations

import itertools
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np

from pixel_patrol_base.loaders.axes import (
    SourceKey,
    harmonise_pixel_sizes,
    in_micrometres,
    plan_axes,
)
from pixel_patrol_base.loaders.formats.base import (
    LibraryImage,
    LibraryReader,
    renamed_axes,
    unique_ids,
)
from pixel_patrol_base.loaders.lazy import BlockSource
from pixel_patrol_base.plugins.contracts import ImageInfo

READER = "liffile"
_LETTERS = {"λ": "E", "Λ": "E"}
"""liffile's dimension codes that are no canonical letter -> the letter the axis rules
place (``E``: a wavelength axis, which prefers C)."""
_SPATIAL_IDS = {"1": "X", "2": "Y", "3": "Z"}
"""``DimensionDescription@DimID`` of the spatial axes."""


class LifReader(LibraryReader):
    """Reads LIF files with liffile (see the module docstring)."""

    name = READER

    def images(self, path: Path) -> list[LibraryImage]:
        """Every image of the LIF file ``path``, headers only."""
        import liffile

        with liffile.LifFile(path) as lif:
            images = list(lif.images)
            ids = unique_ids([im.name for im in images], path.stem)
            if len(set(ids)) == len(ids) and ids != [im.name for im in images]:
                paths = [im.path for im in images]
                ids = paths if len(set(paths)) == len(paths) else ids
            several = len(images) > 1
            return [_image(im, ids[i] if several else None, i) for i, im in enumerate(images)]

    def source(self, path: Path, image: LibraryImage) -> BlockSource:
        """Frames of ``image`` read through liffile, one frame per call."""
        return _LifSource(path, image)


def _letters(dims: tuple[str, ...]) -> tuple[str, str | None]:
    """Axis letters for liffile's ``dims`` and the letter of the frame axis reported as
    Y when the image has no Y (``None`` when it has one)."""
    letters = [_LETTERS.get(d, d) for d in dims]
    if "Y" in letters:
        return "".join(letters), None
    frame_row = len(letters) - (3 if letters[-1] == "S" else 2)
    renamed = letters[frame_row]
    letters[frame_row] = "Y"
    return "".join(letters), renamed


def _image(im: Any, child_id: str | None, index: int) -> LibraryImage:
    dims = tuple(str(d) for d in im.dims)
    letters, as_y = _letters(dims)
    plan = plan_axes(letters, tuple(int(n) for n in im.shape))
    warnings = []
    if as_y is not None:
        warnings.append(f"an X{as_y} scan with no Y axis: its {as_y} axis is reported as Y")
    sweeps = "/".join(d for d in dims if d in _LETTERS)
    names = {"E": f"the wavelength sweep {sweeps}", "M": "the mosaic tiles M"}
    warnings += renamed_axes(plan, names)
    sizes = {a: s for a, s in _pixel_sizes(im, as_y).items() if a in plan.dim_order}
    pixel_sizes, unit = in_micrometres(*harmonise_pixel_sizes(sizes))
    # LIF memory blocks hold raw pixels: the format has no compression
    extra: dict[str, Any] = {"format_reader": READER, "resolution_levels": 1,
                             "image_name": str(im.name), "compression": "none"}  # fmt: skip
    bits = _declared_bits(im)
    if bits is not None:
        extra["declared_bit_depth"] = bits
    if warnings:
        extra["load_warnings"] = warnings
    info = ImageInfo(
        child_id=child_id,
        dim_order=plan.dim_order,
        shape=plan.shape,
        dtype=np.dtype(im.dtype).newbyteorder("=").name,
        pixel_sizes=pixel_sizes,
        pixel_size_unit=unit,
        extra=extra,
    )
    return LibraryImage(info, plan, index)


def _pixel_sizes(im: Any, as_y: str | None) -> dict[str, tuple[float | None, str | None]]:
    """Spatial pixel sizes per canonical letter, in the units the XML states."""
    sizes: dict[str, tuple[float | None, str | None]] = {}
    path = "./Data/Image/ImageDescription/Dimensions/DimensionDescription"
    for dim in im.xml_element.findall(path):
        letter = _SPATIAL_IDS.get(dim.attrib.get("DimID", ""))
        n = int(dim.attrib.get("NumberOfElements", "0"))
        if letter is None or n < 2:
            continue
        step = abs(float(dim.attrib["Length"])) / (n - 1)
        sizes["Y" if letter == as_y else letter] = (step, dim.attrib.get("Unit"))
    return sizes


def _declared_bits(im: Any) -> int | None:
    """The channels' ``Resolution`` (bits per sample), when they all state the same."""
    path = "./Data/Image/ImageDescription/Channels/ChannelDescription"
    stated = {c.attrib.get("Resolution") for c in im.xml_element.findall(path)}
    if len(stated) != 1:
        return None
    value = stated.pop()
    return int(value) if value is not None and value.isdigit() and int(value) > 0 else None


class _LifHandle:
    def __init__(self, path: Path, index: int) -> None:
        import liffile

        self.lif = liffile.LifFile(path)
        self.image: Any = self.lif.images[index]

    def close(self) -> None:
        self.lif.close()


_READS = threading.Lock()
"""One read at a time per process: liffile reads through one file position per open file,
and the threads of a Dask worker share the open file of a source."""


class _LifSource(BlockSource):
    """Reads a box frame by frame: liffile reads one frame (Y-X, or the innermost two
    axes, with S) at a time, given the indices of every other axis."""

    reader = READER

    def __init__(self, path: Path, image: LibraryImage) -> None:
        super().__init__(path, image.plan, image.info.dtype)
        self.index = image.index

    def _open(self) -> _LifHandle:
        return _LifHandle(self.path, self.index)

    def _read(self, handle: _LifHandle, key: SourceKey) -> Any:
        with _READS:
            return self._read_unlocked(handle, key)

    def _read_unlocked(self, handle: _LifHandle, key: SourceKey) -> Any:
        dims = tuple(str(d) for d in handle.image.dims)
        n_frame = 3 if dims[-1] == "S" else 2
        outer, inner = key[: len(dims) - n_frame], key[len(dims) - n_frame :]
        ranges = [range(*k.indices(n)) for k, n in zip(outer, handle.image.shape, strict=False)]
        frames = [
            np.asarray(handle.image.frame(**dict(zip(dims, at, strict=False))))[inner]
            for at in itertools.product(*ranges)
        ]
        shape = (*(len(r) for r in ranges), *frames[0].shape) if frames else ()
        if not frames or math.prod(len(r) for r in ranges) == 0:
            return np.empty([len(r) for r in ranges] + [0] * n_frame, dtype=self.dtype)
        return np.stack(frames).reshape(shape)
