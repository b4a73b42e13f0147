"""What the format-library readers share: headers with axis plans, and lazy pixels.

A reader lists a file's images as :class:`LibraryImage` (header and axis plan) and gives
a :class:`~pixel_patrol_base.loaders.lazy.BlockSource` over one of them; this module
turns that into the loader methods (:meth:`LibraryReader.read_header`, ``open_array``,
``read_array``).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from pixel_patrol_base.errors import ImageLoadError
from pixel_patrol_base.loaders.axes import (
    AxisPlan,
    SourceKey,
    harmonise_pixel_sizes,
    in_micrometres,
)
from pixel_patrol_base.loaders.common import check_unchanged, load_error
from pixel_patrol_base.loaders.lazy import BlockSource, as_dask, file_token
from pixel_patrol_base.plugins.contracts import ImageInfo

_RECENT_FILES = 4
"""Files whose image lists a reader keeps (see :meth:`LibraryReader._recent_images`)."""


@dataclass(frozen=True)
class LibraryImage:
    """One image of a file as a format library stores it.

    Attributes:
        info: Its header (``format_reader`` is the library's name).
        plan: How the library's axes become the canonical ones.
        index: The image's position in the file, as the library counts.
        detail: What else the reader needs to read the image again (reader's own).
    """

    info: ImageInfo
    plan: AxisPlan
    index: int
    detail: Any = None


def renamed_axes(plan: AxisPlan, names: dict[str, str]) -> list[str]:
    """One line per source axis the plan presents under another letter, or folds.

    Args:
        plan: The axis plan.
        names: Source letter -> how to name the axis to a user (``'emission
            wavelength λ'``); letters not in it are named by themselves.
    """
    notes = []
    for letter, group in zip(plan.dim_order, plan.groups, strict=True):
        for i in group:
            source = plan.source_axes[i]
            if source != letter or len(group) > 1:
                name = names.get(source, f"axis {source}")
                how = f"folded into {letter}" if len(group) > 1 else f"reported as {letter}"
                notes.append(f"{name} ({plan.source_shape[i]} planes) is {how}")
    return notes


def library_info(
    library: str,
    plan: AxisPlan,
    child_id: str | None,
    dtype: str,
    *,
    sizes: Mapping[str, tuple[float | None, str | None]],
    facts: Mapping[str, Any],
    warnings: Sequence[str],
    channel_names: tuple[str, ...] | None = None,
) -> ImageInfo:
    """The header of one image a format library read.

    Args:
        library: The library's name (``format_reader``).
        plan: The image's axis plan.
        child_id: The image's id in its file (``None`` for a file of one image).
        dtype: NumPy dtype name of the pixels.
        sizes: Pixel sizes the file states, per axis letter, with their units; those of
            axes the plan has are reported, in µm where the unit is a length.
        facts: Further loader columns (``image_name``, ``compression``,
            ``declared_bit_depth``); ``None`` values are left out.
        warnings: The image's ``load_warnings`` lines (none: no column).
        channel_names: The channels' names, where the file names them.
    """
    stated = {axis: size for axis, size in sizes.items() if axis in plan.dim_order}
    pixel_sizes, unit = in_micrometres(*harmonise_pixel_sizes(stated))
    extra: dict[str, Any] = {"format_reader": library, "resolution_levels": 1}
    extra.update({name: value for name, value in facts.items() if value is not None})
    if warnings:
        extra["load_warnings"] = list(warnings)
    return ImageInfo(
        child_id=child_id,
        dim_order=plan.dim_order,
        shape=plan.shape,
        dtype=dtype,
        pixel_sizes=pixel_sizes,
        pixel_size_unit=unit,
        channel_names=channel_names,
        extra=extra,
    )


class SerialSource(BlockSource):
    """A block source whose library reads one block at a time per process.

    liffile and aicspylibczi read through one file position per open file, and the
    threads of a Dask worker share the open file of a source; subclasses set
    :attr:`reads` (one lock per library) and implement :meth:`_read_block`.
    """

    reads: ClassVar[threading.Lock]

    def _read(self, handle: Any, key: SourceKey) -> Any:
        with self.reads:
            return self._read_block(handle, key)

    @abstractmethod
    def _read_block(self, handle: Any, key: SourceKey) -> Any:
        """Read ``source_array[key]`` through ``handle`` (under :attr:`reads`)."""


class LibraryReader(ABC):
    """A reader over one format library; subclasses list images and read blocks."""

    name: str
    """The library's name: the rows' ``format_reader``."""

    def __init__(self) -> None:
        self._recent: dict[tuple[str, int, int], list[LibraryImage]] = {}
        self._recent_lock = threading.Lock()

    @abstractmethod
    def images(self, path: Path) -> list[LibraryImage]:
        """Every image of ``path``, headers only (exceptions are turned into load errors)."""

    @abstractmethod
    def source(self, path: Path, image: LibraryImage) -> BlockSource:
        """A block source over the pixels of ``image``."""

    def _recent_images(self, path: Path) -> list[LibraryImage]:
        """:meth:`images` of ``path``, kept for the last few files while they are
        unchanged: each image's pixel read locates it again, and listing a CZI's images
        reads the metadata of every subblock."""
        token = file_token(path)
        with self._recent_lock:
            found = self._recent.get(token)
        if found is None:
            found = self.images(path)
            with self._recent_lock:
                while len(self._recent) >= _RECENT_FILES:
                    del self._recent[next(iter(self._recent))]
                self._recent[token] = found
        return found

    def read_header(self, path: Path) -> list[ImageInfo]:
        """One :class:`ImageInfo` per image of ``path``.

        Raises:
            ImageLoadError: when the library cannot read the file or finds no image.
        """
        try:
            found = self._recent_images(path)
        except Exception as exc:
            raise load_error(path, self.name, exc) from exc
        if not found:
            raise ImageLoadError(f"cannot read '{path.name}' with {self.name}: it holds no image")
        return [image.info for image in found]

    def open_array(self, path: Path, info: ImageInfo) -> Any:
        """Lazy dask array of the image ``info`` (level 0), axes in ``info.dim_order``.

        Raises:
            ImageLoadError: when the file cannot be read or no longer matches ``info``.
        """
        image = self._locate(path, info)
        source = self.source(path, image)
        return as_dask(source, (self.name, *file_token(path), info.child_id))

    def read_array(self, path: Path, info: ImageInfo) -> np.ndarray:
        """The image ``info`` (level 0) in memory, axes in ``info.dim_order``.

        Raises:
            ImageLoadError: when the file cannot be read or no longer matches ``info``.
        """
        return self.source(path, self._locate(path, info)).read_all()

    def open_thumbnail_array(self, path: Path, info: ImageInfo, min_side: int = 64) -> None:
        """``None``: these readers read level 0 only (the thumbnail is made from it)."""
        return None

    def _locate(self, path: Path, info: ImageInfo) -> LibraryImage:
        try:
            found = self._recent_images(path)
        except Exception as exc:
            raise load_error(path, self.name, exc) from exc
        for image in found:
            if image.info.child_id == info.child_id:
                check_unchanged(path, info, image.plan.dim_order, image.plan.shape)
                return image
        raise ImageLoadError(f"no image {info.child_id!r} in '{path.name}'; process it again")


def unique_ids(names: list[str], fallback: str) -> list[str]:
    """Ids for images named ``names``: the names when they are distinct and non-empty,
    else ``'<fallback>-<index>'``."""
    if all(names) and len(set(names)) == len(names):
        return names
    return [f"{fallback}-{i}" for i in range(len(names))]
