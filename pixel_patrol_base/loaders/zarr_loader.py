"""The ``zarr`` loader: Zarr v2/v3 arrays and OME-Zarr, one folder being one "file".

Images in a store are found by walking its hierarchy (members in natural order):

- a group with OME-Zarr ``multiscales`` metadata (v0.4 in ``.zattrs``, v0.5 under
  ``ome``) is one image, read at level 0 (``datasets[0]``); its lower levels serve the
  thumbnail, and its ``labels`` are not walked;
- any other array of two or more dimensions is one image;
- any other group is walked into, so the bioformats2raw layout (numbered image groups
  next to an ``OME`` metadata group) and HCS plates give one image per series or field.

A store with one image gives one :class:`ImageInfo` with ``child_id`` ``None``; with
several, ``child_id`` is each image's path inside the store (``'0'``, ``'1'``,
``'A/1/0'``). Axes come from the OME-Zarr axis names and types, from a plain array's
``dimension_names`` (v3) or ``_ARRAY_DIMENSIONS`` (v2), or, when none are given, from the
number of dimensions (:func:`~pixel_patrol_base.loaders.axes.default_axes`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pixel_patrol_base.errors import ImageLoadError
from pixel_patrol_base.loaders.axes import (
    AxisError,
    AxisPlan,
    SourceKey,
    default_axes,
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
from pixel_patrol_base.loaders.manifest import ZARR_METADATA
from pixel_patrol_base.plugins.contracts import ImageInfo

READER = "zarr"
_NAME_LETTERS: Mapping[str, str] = {
    "t": "T", "time": "T", "c": "C", "ch": "C", "channel": "C", "z": "Z", "y": "Y",
    "x": "X", "s": "S", "rgb": "S", "sample": "S", "samples": "S", "lambda": "E",
    "wavelength": "E", "angle": "A", "view": "V", "tile": "M", "mosaic": "M",
}  # fmt: skip
_TYPE_LETTERS: Mapping[str, str] = {"time": "T", "channel": "C", "space": "Q"}


class ZarrLoader:
    """Reads Zarr stores and OME-Zarr with zarr-python (see the module docstring)."""

    id = ZARR_METADATA.id
    version = ZARR_METADATA.version
    extensions: frozenset[str] = ZARR_METADATA.extensions

    def read_header(self, path: Path) -> list[ImageInfo]:
        """One :class:`ImageInfo` per image in the store, reading metadata only.

        Raises:
            ImageLoadError: when the folder is not a Zarr store or holds no image.
        """
        try:
            root = _open_root(path)
            images = _find_images(root, "")
            if not images:
                raise ImageLoadError(f"'{path.name}' holds no array of two or more dimensions")
            return [_image(root, node, node if len(images) > 1 else None)[0] for node in images]
        except Exception as exc:
            raise load_error(path, READER, exc) from exc

    def open_array(self, path: Path, info: ImageInfo) -> Any:
        """Lazy dask array of one image (level 0), axes in ``info.dim_order``.

        Raises:
            ImageLoadError: when the store cannot be opened or no longer matches ``info``.
        """
        return self._open_level(path, info, 0)

    def read_array(self, path: Path, info: ImageInfo) -> np.ndarray:
        """One image (level 0) in memory, axes in ``info.dim_order``.

        Raises:
            ImageLoadError: when the store cannot be read or no longer matches ``info``.
        """
        return self._source(path, info, 0)[2].read_all()

    def open_thumbnail_array(self, path: Path, info: ImageInfo, min_side: int = 64) -> Any:
        """Lazy array of the smallest multiscales level with a side of at least ``min_side``.

        Returns ``None`` for a plain array or a multiscales image without such a level.

        Raises:
            ImageLoadError: when the store cannot be opened.
        """
        _, levels, plan = self._locate(path, info)
        best = None
        for level, array in enumerate(levels[1:], start=1):
            try:
                shape = plan.with_source_shape(array.shape).shape
            except AxisError as exc:
                raise load_error(path, READER, exc) from exc
            if max(shape[plan.dim_order.index(a)] for a in "YX") >= min_side:
                best = level
        return None if best is None else self._open_level(path, info, best)

    def _locate(self, path: Path, info: ImageInfo) -> tuple[str, list[Any], AxisPlan]:
        try:
            root = _open_root(path)
            if info.child_id is None:
                images = _find_images(root, "")
                if len(images) != 1:
                    raise ImageLoadError(f"'{path.name}' holds {len(images)} images, not one")
                node = images[0]
            else:
                node = info.child_id
            header, levels, plan = _image(root, node, info.child_id)
        except Exception as exc:
            raise load_error(path, READER, exc) from exc
        check_unchanged(path, info, header.dim_order, header.shape)
        return node, levels, plan

    def _source(self, path: Path, info: ImageInfo, level: int) -> tuple[str, Any, _ZarrSource]:
        """The image's node, its zarr array at ``level`` and a block source over it."""
        node, levels, plan = self._locate(path, info)
        array = levels[level]
        try:
            plan = plan.with_source_shape(array.shape)
        except AxisError as exc:
            raise load_error(path, READER, exc) from exc
        source = _ZarrSource(path, plan, info.dtype, _relative(array.path))
        source.adopt(_ZarrHandle(array))
        return node, array, source

    def _open_level(self, path: Path, info: ImageInfo, level: int) -> Any:
        node, array, source = self._source(path, info, level)
        return as_dask(
            source,
            (self.id, *file_token(path), node, level),
            lambda: source.plan.source_chunks(array.chunks),
        )


def _open_root(path: Path) -> Any:
    import zarr

    if not path.is_dir():
        raise ImageLoadError(f"'{path.name}' is not a folder; a Zarr store is a folder")
    return zarr.open(store=str(path), mode="r")


def _relative(array_path: str) -> str:
    return array_path.strip("/")


def _ome(attrs: Mapping[str, Any]) -> Mapping[str, Any]:
    """OME-Zarr metadata: under ``ome`` (v0.5) or at the top of the attributes (v0.4)."""
    nested = attrs.get("ome")
    return nested if isinstance(nested, Mapping) else attrs


def _natural(name: str) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def _find_images(node: Any, prefix: str) -> list[str]:
    """Paths (relative to the store root) of the images under ``node``."""
    import zarr

    if isinstance(node, zarr.Array):
        return [prefix] if node.ndim >= 2 else []
    if "multiscales" in _ome(node.attrs):
        return [prefix]
    found: list[str] = []
    for name, child in sorted(node.members(), key=lambda m: _natural(m[0])):
        found.extend(_find_images(child, f"{prefix}/{name}" if prefix else name))
    return found


def _image(root: Any, node: str, child_id: str | None) -> tuple[ImageInfo, list[Any], AxisPlan]:
    """Header, arrays per resolution level and axis plan of the image at ``node``."""
    import zarr

    item = root if node == "" else root[node]
    if isinstance(item, zarr.Array):
        return _plain_image(item, child_id)
    return _multiscales_image(item, child_id)


def _plain_image(array: Any, child_id: str | None) -> tuple[ImageInfo, list[Any], AxisPlan]:
    names = getattr(array.metadata, "dimension_names", None) or array.attrs.get("_ARRAY_DIMENSIONS")
    letters = default_axes(array.ndim)
    if names and len(names) == array.ndim:
        named = "".join(_NAME_LETTERS.get(str(n).lower(), "Q") for n in names)
        if "Y" in named and "X" in named:
            letters = named
    plan = plan_axes(letters, array.shape)
    info = ImageInfo(
        child_id=child_id,
        dim_order=plan.dim_order,
        shape=plan.shape,
        dtype=_dtype(array),
        extra={"resolution_levels": 1, "compression": _compression(array),
               "format_reader": READER},
    )  # fmt: skip
    return info, [array], plan


def _multiscales_image(group: Any, child_id: str | None) -> tuple[ImageInfo, list[Any], AxisPlan]:
    ome = _ome(group.attrs)
    multiscale = ome["multiscales"][0]
    datasets = multiscale["datasets"]
    levels = [group[d["path"]] for d in datasets]
    axes = multiscale.get("axes") or list("tczyx")[-levels[0].ndim :]
    letters, units = "", []
    for axis in axes:
        name = axis.get("name", "") if isinstance(axis, Mapping) else str(axis)
        kind = axis.get("type", "") if isinstance(axis, Mapping) else ""
        unit = axis.get("unit") if isinstance(axis, Mapping) else None
        letters += _NAME_LETTERS.get(name.lower(), _TYPE_LETTERS.get(kind, "Q"))
        units.append(unit)
    plan = plan_axes(letters, levels[0].shape)
    scale = _scale(datasets[0], len(axes))
    global_scale = _scale(multiscale, len(axes))
    sizes = {
        letter: (s * g, u)
        for letter, s, g, u in zip(letters, scale, global_scale, units, strict=True)
        if letter in "ZYX" and letter in plan.dim_order
    }
    pixel_sizes, unit = harmonise_pixel_sizes(sizes)
    channels = ome.get("omero", {}).get("channels")
    labels = [c.get("label") for c in channels] if isinstance(channels, list) else None
    extra: dict[str, Any] = {
        "resolution_levels": len(levels),
        "compression": _compression(levels[0]),
        "format_reader": READER,
    }
    if multiscale.get("name"):
        extra["image_name"] = str(multiscale["name"])
    info = ImageInfo(
        child_id=child_id,
        dim_order=plan.dim_order,
        shape=plan.shape,
        dtype=_dtype(levels[0]),
        pixel_sizes=pixel_sizes,
        pixel_size_unit=unit,
        channel_names=channel_names_or_none(labels, size_of(plan.dim_order, plan.shape, "C")),
        extra=extra,
    )
    return info, levels, plan


def _scale(owner: Mapping[str, Any], ndim: int) -> list[float]:
    """The ``scale`` coordinate transformation of ``owner`` (ones where it has none)."""
    for transform in owner.get("coordinateTransformations") or []:
        if transform.get("type") == "scale" and len(transform.get("scale", [])) == ndim:
            return [float(v) for v in transform["scale"]]
    return [1.0] * ndim


def _dtype(array: Any) -> str:
    return str(np.dtype(array.dtype).newbyteorder("=").name)


def _compression(array: Any) -> str:
    names = []
    for codec in getattr(array, "compressors", ()) or ():
        name = getattr(codec, "codec_id", None) or type(codec).__name__.removesuffix("Codec")
        cname = getattr(codec, "cname", None)
        names.append(f"{name}-{getattr(cname, 'value', cname)}" if cname else str(name))
    joined = "+".join(names).lower()
    return joined or "none"


class _ZarrHandle:
    """An open Zarr array; nothing to release but the interface asks for ``close``."""

    def __init__(self, array: Any) -> None:
        self.array = array

    def close(self) -> None:
        """Zarr arrays hold no open file between reads."""


class _ZarrSource(BlockSource):
    reader = READER

    def __init__(self, path: Path, plan: AxisPlan, dtype: str, array_path: str) -> None:
        super().__init__(path, plan, dtype)
        self.array_path = array_path

    def _open(self) -> _ZarrHandle:
        root = _open_root(self.path)
        return _ZarrHandle(root if self.array_path == "" else root[self.array_path])

    def _read(self, handle: _ZarrHandle, key: SourceKey) -> Any:
        return handle.array[key]


LOADER = ZarrLoader()
"""The instance registered under the ``pixel_patrol.loaders`` entry point ``zarr``."""
