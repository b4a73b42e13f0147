"""Zeiss CZI files read with aicspylibczi, one of the libraries bioio-czi is built on.

Every scene (``S``) is one image; its id is the scene's name in the metadata, else
``'<file stem>-<index>'``. Every other axis aicspylibczi reports is kept as an axis of
its own: T, C, Z, H (Airyscan detector phases, for one), M (mosaic tiles), V (view), I
(illumination), R (rotation), and A (samples, as S). The block axis B, which no
canonical letter names, is placed by the axis rules
(:mod:`pixel_patrol_base.loaders.axes`), and the row says where it went. A mosaic is
read tile by tile, as acquired (one M index per tile): its statistics cover the tiles,
not the fill between them.

The image is what the file's subblocks hold, never a box around them filled with
zeros. A scene whose planes are no full grid (an Airyscan file stores 32 phases for
four channels and one phase for four more) is split into the fewest grids along one
axis (C first), one image each (ids ``'<scene>:C0-3'``, or ``'C0-3'`` in a file of one
scene), and each row says so.

Pixel sizes come from ``Scaling/Items/Distance`` (metres, reported in µm), channel
names from the channels' ``Name``, ``image_name`` from the scene's ``Name``, the declared
bit depth from ``Information/Image/ComponentBitCount``. ``compression`` stays null: the
metadata states only the acquisition's (``OriginalCompressionMethod``), not how each
subblock is stored.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pixel_patrol_base.errors import ImageLoadError
from pixel_patrol_base.loaders.axes import SourceKey, plan_axes
from pixel_patrol_base.loaders.common import channel_names_or_none, size_of
from pixel_patrol_base.loaders.formats.base import (
    LibraryImage,
    LibraryReader,
    SerialSource,
    library_info,
    renamed_axes,
    unique_ids,
)
from pixel_patrol_base.loaders.lazy import BlockSource

READER = "aicspylibczi"
_PIXEL_TYPES: Mapping[str, tuple[str, int]] = {
    "gray8": ("uint8", 1), "gray16": ("uint16", 1), "gray32": ("int32", 1),
    "gray32float": ("float32", 1), "gray64float": ("float64", 1), "bgr24": ("uint8", 3),
    "bgr48": ("uint16", 3), "bgra32": ("uint8", 4), "bgr96float": ("float32", 3),
}  # fmt: skip
"""CZI pixel type -> dtype and samples per pixel."""
_SCENE, _SAMPLES = "S", "A"
_NAMES: Mapping[str, str] = {
    "H": "the phase axis H (Airyscan detector elements)", "M": "the mosaic tiles M",
    "B": "the block axis B", "V": "the view axis V", "I": "the illumination axis I",
    "R": "the rotation axis R",
}  # fmt: skip


@dataclass(frozen=True)
class _Grid:
    """The planes of one image: a full grid of subblocks of one scene."""

    dims: str
    """aicspylibczi's axis letters (with ``A`` when the pixels have samples)."""
    scene: int | None
    """The scene's ``S`` index; ``None`` when the file has no scene axis."""
    coords: Mapping[str, tuple[int, ...]]
    """The subblock indices the image holds, per axis other than S, Y, X and A."""
    frame: Mapping[str, int]
    """Extents of Y, X and A (one subblock, or one mosaic tile)."""

    @property
    def shape(self) -> tuple[int, ...]:
        """Extent per axis of :attr:`dims`."""
        return tuple(
            self.frame[d] if d in self.frame else len(self.coords[d]) if d in self.coords else 1
            for d in self.dims
        )


class CziReader(LibraryReader):
    """Reads CZI files with aicspylibczi (see the module docstring)."""

    name = READER

    def images(self, path: Path) -> list[LibraryImage]:
        """Every scene (or grid of a scene) of the CZI file ``path``, headers only."""
        with _CziHandle(path) as handle:
            return self._images(path, handle.czi)

    def _images(self, path: Path, czi: Any) -> list[LibraryImage]:
        dtype, samples = _pixel_type(str(czi.pixel_type))
        dims = str(czi.dims)
        if samples > 1 and _SAMPLES not in dims:
            dims += _SAMPLES
        stepped = [d for d in dims if d not in ("Y", "X", _SAMPLES, _SCENE)]
        planes: dict[int | None, set[tuple[int, ...]]] = defaultdict(set)
        for sub, _ in czi.read_subblock_metadata():
            planes[sub.get(_SCENE)].add(tuple(int(sub.get(a, 0)) for a in stepped))
        scenes = _scenes(czi.get_dims_shape())
        names = [s.get("Name") or "" for s in czi.meta.iter("Scene")]
        if len(names) != len(scenes):
            names = [""] * len(scenes)
        ids = unique_ids(names, path.stem)
        found: list[tuple[str, str, _Grid, list[str]]] = []
        for name, scene_id, ranges in zip(names, ids, scenes, strict=True):
            at = ranges[_SCENE][0] if _SCENE in dims else None
            frame = {"Y": _extent(ranges, "Y"), "X": _extent(ranges, "X"), _SAMPLES: samples}
            axis, grids = _grids(planes.get(at, set()), stepped, path)
            for coords in grids:
                grid = _Grid(dims, at, coords, frame)
                if axis is None:
                    found.append((name, scene_id, grid, []))
                else:
                    part = f"{axis}{_span(coords[axis], '-')}"
                    note = _split_note(axis, grids, coords)
                    child = part if len(scenes) == 1 else f"{scene_id}:{part}"
                    found.append((name, child, grid, [note]))
        several = len(found) > 1
        return [
            _image(czi.meta, grid, dtype, child_id if several else None, i, notes, name)
            for i, (name, child_id, grid, notes) in enumerate(found)
        ]

    def source(self, path: Path, image: LibraryImage) -> BlockSource:
        """Planes of ``image`` read through aicspylibczi, one subblock per call."""
        return _CziSource(path, image)


def _scenes(dims_shape: list[dict[str, tuple[int, int]]]) -> list[dict[str, tuple[int, int]]]:
    """Index ranges per axis of each scene (one entry per scene, ``S`` a single index)."""
    scenes = []
    for ranges in dims_shape:
        first, end = ranges.get(_SCENE, (0, 1))
        scenes += [{**ranges, _SCENE: (s, s + 1)} for s in range(first, end)]
    return scenes


def _extent(ranges: Mapping[str, tuple[int, int]], axis: str) -> int:
    first, end = ranges[axis]
    return end - first


def _pixel_type(name: str) -> tuple[str, int]:
    try:
        return _PIXEL_TYPES[name.lower()]
    except KeyError:
        raise ImageLoadError(f"pixel type {name!r} is not one PixelPatrol can read") from None


def _full_grid(keys: set[tuple[int, ...]], axes: list[str]) -> dict[str, tuple[int, ...]] | None:
    """The indices per axis when ``keys`` are every combination of them, else ``None``."""
    values = [tuple(sorted({k[i] for k in keys})) for i in range(len(axes))]
    if not keys or len(keys) != math.prod(len(v) for v in values):
        return None
    return dict(zip(axes, values, strict=True))


def _grids(
    keys: set[tuple[int, ...]], axes: list[str], path: Path
) -> tuple[str | None, list[dict[str, tuple[int, ...]]]]:
    """The planes ``keys`` of a scene as full grids: one, or one per group of indices of
    the axis that splits them (C tried first), with that axis.

    Raises:
        ImageLoadError: when no single axis splits them into full grids.
    """
    whole = _full_grid(keys, axes)
    if whole is not None:
        return None, [whole]
    for i in sorted(range(len(axes)), key=lambda j: axes[j] != "C"):
        rests: dict[int, set[tuple[int, ...]]] = defaultdict(set)
        for k in keys:
            rests[k[i]].add(k[:i] + k[i + 1 :])
        groups: dict[frozenset[tuple[int, ...]], list[int]] = defaultdict(list)
        for value in sorted(rests):
            groups[frozenset(rests[value])].append(value)
        grids = [
            _full_grid({(*r[:i], v, *r[i:]) for r in rest for v in values}, axes)
            for rest, values in groups.items()
        ]
        if all(g is not None for g in grids):
            return axes[i], sorted((g for g in grids if g is not None), key=lambda g: g[axes[i]])
    raise ImageLoadError(
        f"'{path.name}': the subblocks of a scene form no grid that PixelPatrol can read as images"
    )


def _span(values: tuple[int, ...], dash: str = "–") -> str:
    """``0–3`` for consecutive indices, ``0,2,5`` otherwise."""
    if len(values) > 1 and values == tuple(range(values[0], values[-1] + 1)):
        return f"{values[0]}{dash}{values[-1]}"
    return ",".join(str(v) for v in values)


def _split_note(
    axis: str, grids: list[dict[str, tuple[int, ...]]], this: Mapping[str, tuple[int, ...]]
) -> str:
    """The ``load_warnings`` line of one image of a scene split into grids."""

    def holds(coords: Mapping[str, tuple[int, ...]]) -> str:
        varying = [a for a in coords if a == axis or len({g[a] for g in grids}) > 1]
        return ", ".join(f"{a} {_span(coords[a])}" for a in varying)

    others = "; ".join(holds(g) for g in grids if g is not this)
    return (
        f"the scene's planes are no full grid, so it is split by {axis} into {len(grids)} "
        f"images: this one holds {holds(this)}; the other(s): {others}"
    )


def _letters(dims: str) -> str:
    """Axis letters for the axis rules: the scene axis out of the way, samples as S."""
    return "".join({_SCENE: "N", _SAMPLES: "S"}.get(d, d) for d in dims)


def _image(  # noqa: PLR0917 - the parts of one header, all needed
    meta: Any,
    grid: _Grid,
    dtype: str,
    child_id: str | None,
    index: int,
    notes: list[str],
    name: str,
) -> LibraryImage:
    plan = plan_axes(_letters(grid.dims), grid.shape, generic="")  # I: illumination
    warnings = [*notes, *renamed_axes(plan, dict(_NAMES))]
    tiles = len(grid.coords.get("M", ()))
    if tiles > 1:
        warnings.append(
            f"a mosaic of {tiles} tiles: the statistics cover the tiles as acquired "
            "(overlaps counted in each tile), not the stitched scene"
        )
    bits = _text(meta, ".//Information/Image/ComponentBitCount")
    facts = {
        "image_name": name or None,
        "declared_bit_depth": int(bits) if bits and bits.isdigit() and int(bits) > 0 else None,
    }
    info = library_info(
        READER,
        plan,
        child_id,
        dtype,
        sizes=_distances(meta),
        facts=facts,
        warnings=warnings,
        channel_names=_channel_names(meta, grid, plan.dim_order, plan.shape),
    )
    return LibraryImage(info, plan, index, grid)


def _channel_names(
    meta: Any, grid: _Grid, dim_order: str, shape: tuple[int, ...]
) -> tuple[str, ...] | None:
    """The names of the image's channels, where the metadata names every channel."""
    path = ".//Information/Image/Dimensions/Channels/Channel"
    names = [c.get("Name") for c in meta.findall(path)]
    held = grid.coords.get("C", (0,))
    if "C" not in dim_order or not names or max(held) >= len(names):
        return None
    return channel_names_or_none([names[c] for c in held], size_of(dim_order, shape, "C"))


def _text(meta: Any, path: str) -> str | None:
    node = meta.find(path)
    return None if node is None or node.text is None else node.text.strip()


def _distances(meta: Any) -> dict[str, tuple[float | None, str | None]]:
    """Pixel sizes per spatial axis that the metadata states (metres)."""
    sizes: dict[str, tuple[float | None, str | None]] = {}
    for node in meta.findall(".//Scaling/Items/Distance"):
        axis, value = node.get("Id"), node.findtext("Value")
        if axis in ("X", "Y", "Z") and value:
            sizes[axis] = (float(value), "m")
    return sizes


class _CziHandle:
    """A CZI file open for aicspylibczi, which is given the open file (given a path, it
    opens one and never closes it)."""

    def __init__(self, path: Path) -> None:
        from aicspylibczi import CziFile

        self.file = path.open("rb")
        try:
            self.czi = CziFile(self.file)
        except BaseException:
            self.file.close()
            raise

    def __enter__(self) -> _CziHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        self.file.close()


class _CziSource(SerialSource):
    """Reads a box one subblock at a time, each named by all its indices (a CZI read
    with an index left out fills planes the file does not hold)."""

    reader = READER
    reads = threading.Lock()

    def __init__(self, path: Path, image: LibraryImage) -> None:
        super().__init__(path, image.plan, image.info.dtype)
        self.grid: _Grid = image.detail

    def _open(self) -> _CziHandle:
        return _CziHandle(self.path)

    def _read_block(self, handle: _CziHandle, key: SourceKey) -> Any:
        grid = self.grid
        picked = [range(*k.indices(n)) for k, n in zip(key, self.plan.source_shape, strict=True)]
        stepped = [i for i, d in enumerate(grid.dims) if d in grid.coords]
        out = np.empty([len(r) for r in picked], dtype=self.dtype)
        inner = tuple(slice(None) if i in stepped else k for i, k in enumerate(key))
        for at in itertools.product(*(picked[i] for i in stepped)):
            selection = {
                grid.dims[i]: grid.coords[grid.dims[i]][j] for i, j in zip(stepped, at, strict=True)
            }
            if grid.scene is not None:
                selection[_SCENE] = grid.scene
            block, _ = handle.czi.read_image(**selection)
            target: list[slice] = [slice(None)] * len(grid.dims)
            for i, j in zip(stepped, at, strict=True):
                target[i] = slice(j - picked[i].start, j - picked[i].start + 1)
            out[tuple(target)] = np.asarray(block).reshape(
                tuple(1 if i in stepped else n for i, n in enumerate(grid.shape))
            )[inner]
        return out
