"""Lazy pixel access shared by the loaders: block sources wrapped as dask arrays.

A :class:`BlockSource` is an array-like in canonical axes (``shape``, ``dtype``,
``__getitem__``) that reads only the block asked for. It opens its file lazily, once per
process, and keeps the handle until it is garbage collected; pickling drops the handle,
so a dask graph can travel to distributed workers, which reopen the file themselves.
Every failure while reading becomes a one-line :class:`ImageLoadError`.

:func:`as_dask` wraps a source with :func:`dask.array.from_array` and the chunking of
:func:`plan_chunks`. Dask fuses slicing into the read, so ``array[3]`` reads one plane
even when the chunk holds several.
"""

from __future__ import annotations

import math
import threading
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pixel_patrol_base.errors import ImageLoadError
from pixel_patrol_base.loaders.axes import AxisPlan, SourceKey
from pixel_patrol_base.loaders.common import load_error

CHUNK_BYTES = 64 * 2**20
"""Target size of one dask chunk. An image up to this size is a single chunk (one read);
a larger one is chunked along T, C and Z (consecutive planes, up to this size), and a
plane larger than this is split into bands of rows (and columns if needed)."""


def plan_chunks(
    shape: Sequence[int],
    dim_order: str,
    itemsize: int,
    storage_chunks: Sequence[int] | None = None,
    target: int = CHUNK_BYTES,
) -> tuple[int, ...]:
    """Dask chunk sizes for an image in canonical axes (policy in :data:`CHUNK_BYTES`).

    Args:
        shape: Extent per axis.
        dim_order: Canonical axis letters.
        itemsize: Bytes per pixel value.
        storage_chunks: Chunk sizes of the underlying store, if it has any; chunks are
            rounded up to whole multiples of them along axes that are split.
        target: Bytes per chunk to aim for.
    """
    chunks = [int(n) for n in shape]
    if math.prod(chunks) * itemsize <= target:
        return tuple(chunks)
    spatial = [i for i, a in enumerate(dim_order) if a in "YXS"]
    plane = math.prod(chunks[i] for i in spatial) * itemsize
    stepped = [i for i, a in enumerate(dim_order) if a not in "YXS"]
    budget = max(1, target // max(plane, 1))
    for i in reversed(stepped):  # innermost first: consecutive planes stay contiguous
        chunks[i] = max(1, min(chunks[i], budget))
        budget = max(1, budget // chunks[i])
    for axis in "YX":
        if axis not in dim_order or math.prod(chunks) * itemsize <= target:
            continue
        i = dim_order.index(axis)
        line = math.prod(chunks) // chunks[i] * itemsize
        chunks[i] = max(1, min(chunks[i], target // max(line, 1)))
    if storage_chunks is not None:
        for i, (c, s, n) in enumerate(zip(chunks, storage_chunks, shape, strict=True)):
            if c < n and s > 1:
                chunks[i] = min(n, max(s, round(c / s) * s))
    return tuple(chunks)


class BlockSource(ABC):
    """Array-like in canonical axes that reads blocks of one image on demand.

    Subclasses implement :meth:`_open` (return a handle with ``close()``) and
    :meth:`_read` (read a box of the source array through that handle).
    """

    reader: str = "loader"
    """Name used in error messages (e.g. ``'tifffile'``)."""

    def __init__(self, path: Path, plan: AxisPlan, dtype: str) -> None:
        self.path = path
        self.plan = plan
        self.dtype = np.dtype(dtype)
        self.shape = plan.shape
        self.ndim = len(self.shape)
        self._lock = threading.Lock()
        self._handle: Any = None
        self._closer: weakref.finalize[Any, Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_handle"] = None
        state["_closer"] = None
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @abstractmethod
    def _open(self) -> Any:
        """Open the file; the returned handle must have ``close()``."""

    @abstractmethod
    def _read(self, handle: Any, key: SourceKey) -> Any:
        """Read ``source_array[key]`` (one slice per source axis) through ``handle``."""

    def handle(self) -> Any:
        """The open handle, opened on first use in this process.

        Raises:
            ImageLoadError: when the file cannot be opened.
        """
        with self._lock:
            if self._handle is None:
                try:
                    handle = self._open()
                except Exception as exc:
                    raise load_error(self.path, self.reader, exc) from exc
                self._closer = weakref.finalize(self, handle.close)
                self._handle = handle
            return self._handle

    def adopt(self, handle: Any) -> None:
        """Use ``handle``, already opened by the caller, instead of opening again."""
        with self._lock:
            if self._handle is not None:
                raise RuntimeError("this source already has an open handle")
            self._closer = weakref.finalize(self, handle.close)
            self._handle = handle

    def read_all(self) -> np.ndarray:
        """The whole array in memory; the file is closed afterwards.

        Raises:
            ImageLoadError: when the file cannot be read.
        """
        try:
            return self[...]
        finally:
            with self._lock:
                closer, self._closer, self._handle = self._closer, None, None
            if closer is not None:
                closer()

    def is_full(self, key: SourceKey) -> bool:
        """Whether ``key`` selects the whole source array."""
        return all(
            s.indices(n) == (0, n, 1) for s, n in zip(key, self.plan.source_shape, strict=True)
        )

    def __getitem__(self, key: Any) -> np.ndarray:
        handle = self.handle()
        try:
            block = self.plan.read(key, lambda k: self._read(handle, k))
        except (ImageLoadError, IndexError):
            raise
        except Exception as exc:
            raise load_error(self.path, self.reader, exc) from exc
        return block.astype(self.dtype, copy=False)


def as_dask(
    source: BlockSource,
    token: Sequence[Any],
    storage_chunks: Callable[[], Sequence[int]] | None = None,
) -> Any:
    """A dask array over ``source``, chunked by :func:`plan_chunks`.

    Args:
        source: The block source.
        token: Values that identify the image and its state (loader id, path, child id,
            level, mtime, size); they make the dask name unique and deterministic.
        storage_chunks: Gives the storage chunk sizes per canonical axis, where the format
            has any; called only for an image larger than :data:`CHUNK_BYTES`.
    """
    import dask.array as da
    from dask.base import tokenize

    itemsize = source.dtype.itemsize
    big = math.prod(source.shape) * itemsize > CHUNK_BYTES
    chunks = plan_chunks(
        source.shape,
        source.plan.dim_order,
        itemsize,
        storage_chunks() if big and storage_chunks is not None else None,
        target=CHUNK_BYTES,
    )
    from_array: Any = da.from_array  # dask's signature is untyped
    return from_array(
        source,
        chunks=chunks,
        name=f"pixel-patrol-{tokenize(*token)}",
        meta=np.empty((0,) * source.ndim, dtype=source.dtype),
        asarray=False,
        lock=False,
    )


def file_token(path: Path) -> tuple[str, int, int]:
    """Path, mtime and size of ``path``: what makes a read of it unique."""
    st = path.stat()
    return str(path.resolve()), st.st_mtime_ns, st.st_size
