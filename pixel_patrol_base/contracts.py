"""Plugin contracts: what a loader and a processor must provide.

Both are ``typing.Protocol`` classes; built-in plugins and third-party ones register the
same way, through entry points (see :mod:`pixel_patrol_base.plugins`). The conformance
tests are derived from these Protocols.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from pixel_patrol_base.catalog import Column


@dataclass(frozen=True)
class ImageInfo:
    """What a loader reads from a header, without touching pixels.

    Attributes:
        child_id: Id of the image inside a container (scene/series), ``None`` for a file
            holding a single image.
        dim_order: Axes in storage order, canonical letters from ``catalog.AXES``.
        shape: Extent per axis, in ``dim_order``.
        dtype: NumPy dtype name of the pixels.
        pixel_sizes: Physical pixel size per axis letter, where known.
        pixel_size_unit: Unit of ``pixel_sizes``.
        channel_names: Channel names, where known.
        extra: Further metadata that passes through as columns (name -> scalar).
    """

    child_id: str | None
    dim_order: str
    shape: tuple[int, ...]
    dtype: str
    pixel_sizes: Mapping[str, float] = field(default_factory=dict)
    pixel_size_unit: str | None = None
    channel_names: tuple[str, ...] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Loader(Protocol):
    """Reads image headers cheaply and gives lazy access to pixels."""

    id: str
    version: str
    extensions: frozenset[str]
    """File extensions (lower-case, no dot, compound allowed) the loader reads."""

    def read_header(self, path: Path) -> list[ImageInfo]:
        """One :class:`ImageInfo` per image in the file, without loading pixels."""
        ...

    def open_array(self, path: Path, info: ImageInfo) -> Any:
        """Lazy array (a dask array) of one image, axes in ``info.dim_order``."""
        ...


@runtime_checkable
class ThumbnailArraySource(Protocol):
    """Optional loader capability: a downsampled array to draw a thumbnail from.

    A loader that can read a lower-resolution level (an image pyramid) cheaply implements
    this too; callers check ``isinstance(loader, ThumbnailArraySource)``.
    """

    def open_thumbnail_array(self, path: Path, info: ImageInfo, min_side: int = 64) -> Any:
        """Lazy array of a lower pyramid level of one image, or ``None``.

        The level is the smallest one whose longest side (Y or X) is at least
        ``min_side``. Its axes are ``info.dim_order``; only the extents of Y, X and
        possibly Z differ from ``info.shape``. ``None`` means the image has no such
        level: read ``open_array`` with strides instead.
        """
        ...


@runtime_checkable
class Processor(Protocol):
    """Turns pixel blocks into declared columns."""

    id: str
    version: str
    columns: tuple[Column, ...]
    """Output columns, declared in (and registered with) the column catalog."""
