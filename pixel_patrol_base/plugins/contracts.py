"""Plugin contracts: what a loader and a processor must provide.

Both are ``typing.Protocol`` classes; built-in plugins and third-party ones register the
same way, through entry points that name their metadata (see
:mod:`pixel_patrol_base.plugins.metadata` and :mod:`pixel_patrol_base.plugins.registry`).
The conformance checks (:mod:`pixel_patrol_base.plugins.testing`) are derived from these
Protocols.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from pixel_patrol_base.imaging.blocks import Leaf
    from pixel_patrol_base.imaging.tiles import Tile
    from pixel_patrol_base.table.catalog import Column

TileVisitor = Callable[["Tile"], None]
"""Called once for every tile of a leaf during one pass."""


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
class WholeArrayReader(Protocol):
    """Optional loader capability: read a whole image into memory in one call.

    For an image that fits the memory budget of a task, building and running a Dask
    graph costs more than decoding the image, so the shard job reads it with
    :meth:`read_array` when the loader has it (``isinstance(loader, WholeArrayReader)``)
    and no Dask scheduler is configured.
    """

    def read_array(self, path: Path, info: ImageInfo) -> Any:
        """The pixels of one image (level 0) as a numpy array, axes in ``info.dim_order``.

        Raises:
            ImageLoadError: when the file cannot be read or no longer matches ``info``.
        """
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
    """Turns pixel tiles into declared columns, leaf by leaf, and merges leaves upward.

    The engine (:func:`pixel_patrol_base.imaging.engine.process_image`) calls, for each
    leaf block, :meth:`measure`; that generator yields one :data:`TileVisitor` per pass
    it needs over the leaf's tiles (most need one) and returns the leaf's *state*, any
    mergeable value. :meth:`merge` combines the states of the leaves a row covers and
    :meth:`finalize` turns a state into column values. Every tile is read once per pass
    and shared by all processors, which may share derived arrays through
    :meth:`Tile.cached <pixel_patrol_base.imaging.tiles.Tile.cached>`.
    """

    id: str
    version: str
    columns: tuple[Column, ...]
    """Output columns: the same tuple as the processor's metadata declares (see
    :class:`~pixel_patrol_base.plugins.metadata.ProcessorMetadata`), which the column
    catalog lists."""
    halo: int
    """Neighbour pixels each tile needs around its core on every side (0: pointwise)."""
    uses_overview: bool
    """Whether it reads a lower-resolution overview (pyramid level) when one exists."""

    def wants(self, leaf: Leaf) -> bool:
        """Whether this leaf's pixels matter to the processor (unwanted ones are not read)."""
        ...

    def measure(self, leaf: Leaf) -> Generator[TileVisitor, None, Any]:
        """Yield one visitor per pass over the leaf's tiles; return the leaf's state."""
        ...

    def merge(self, states: Sequence[Any]) -> Any:
        """The state of the union of the (disjoint) leaves whose states are given."""
        ...

    def finalize(self, state: Any) -> dict[str, Any]:
        """Column values (name -> value, ``None`` when undefined) of one row's state."""
        ...
