"""Leica LIF files read with liffile, the library bioio-lif is built on.

Every image (series) of the file is one image; its id is its name, or its path inside
the file when names repeat. Axes are liffile's: T, C, Z, Y, X, S and mosaic tiles (M)
as they are; a wavelength sweep (λ or Λ) is an E axis of its own (a second one is placed
by the axis rules of :mod:`pixel_patrol_base.loaders.axes`, and the row says where it
went). An XZ or XT scan stores no Y axis: the frame's
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

from pixel_patrol_base.loaders.axes import SourceKey, plan_axes
from pixel_patrol_base.loaders.formats.base import (
    LibraryImage,
    LibraryReader,
    SerialSource,
    library_info,
    renamed_axes,
    unique_ids,
)
from pixel_patrol_base.loaders.lazy import BlockSource

READER = "liffile"
_LETTERS = {"λ": "E", "Λ": "E"}
"""liffile's dimension codes that are no canonical letter -> the canonical one (``E``:
the wavelength axis, kept as an axis of its own)."""
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
            # names; where they repeat, paths inside the file; where those do, stem-index
            names = [im.name for im in images]
            if unique_ids(names, path.stem) != names:
                names = unique_ids([im.path for im in images], path.stem)
            ids = names
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
    # LIF memory blocks hold raw pixels: the format has no compression
    facts = {"image_name": str(im.name), "compression": "none",
             "declared_bit_depth": _declared_bits(im)}  # fmt: skip
    info = library_info(
        READER,
        plan,
        child_id,
        np.dtype(im.dtype).newbyteorder("=").name,
        sizes=_pixel_sizes(im, as_y),
        facts=facts,
        warnings=warnings,
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


class _LifSource(SerialSource):
    """Reads a box frame by frame: liffile reads one frame (Y-X, or the innermost two
    axes, with S) at a time, given the indices of every other axis."""

    reader = READER
    reads = threading.Lock()

    def __init__(self, path: Path, image: LibraryImage) -> None:
        super().__init__(path, image.plan, image.info.dtype)
        self.index = image.index

    def _open(self) -> _LifHandle:
        return _LifHandle(self.path, self.index)

    def _read_block(self, handle: _LifHandle, key: SourceKey) -> Any:
        dims = tuple(str(d) for d in handle.image.dims)
        n_frame = 3 if dims[-1] == "S" else 2
        outer, inner = key[: len(dims) - n_frame], key[len(dims) - n_frame :]
        ranges = [range(*k.indices(n)) for k, n in zip(outer, handle.image.shape, strict=False)]
        counts = [len(r) for r in ranges]
        if math.prod(counts) == 0:
            return np.empty(counts + [0] * n_frame, dtype=self.dtype)
        frames = [
            np.asarray(handle.image.frame(**dict(zip(dims, at, strict=False))))[inner]
            for at in itertools.product(*ranges)
        ]
        return np.stack(frames).reshape((*counts, *frames[0].shape))
