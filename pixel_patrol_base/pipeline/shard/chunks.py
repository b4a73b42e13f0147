"""Chunk Parquet files: the rows one shard job produced, and how the job went.

What belongs here: writing a shard's rows atomically with the catalog's Arrow types
(:class:`ChunkWriter`, :func:`write_chunk`), the :class:`ChunkInfo` kept in the chunk's
key-value metadata (:func:`read_chunk_info`), and the Arrow type unification shared
with the merge (:func:`union_schema`, :func:`conform`). What does not: producing the rows
(the shard job) or validating them (the merge, with :mod:`pixel_patrol_base.table.validation`).

Chunk fields are all nullable: nullability is checked once, at the merge, where every
failure is reported with its rows instead of failing one shard on the first null.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from pixel_patrol_base.errors import NotAReportError
from pixel_patrol_base.pipeline.atomic import new_temp_file
from pixel_patrol_base.table import catalog

if TYPE_CHECKING:  # a shard job writes row dicts and need not import polars
    import polars as pl

logger = logging.getLogger(__name__)

CHUNK_META_KEY = b"pixel_patrol_chunk"
"""Key of the :class:`ChunkInfo` JSON in a chunk's Parquet key-value metadata."""

COMPRESSION = "zstd"
"""Parquet compression of chunks and reports."""


@dataclass(frozen=True)
class ChunkInfo:
    """How one shard job went.

    Attributes:
        shard_id: Id of the shard the chunk holds.
        n_files: Files in the shard.
        n_images: Images read (level-0 rows of images without load error).
        n_failed: Files or images whose loading failed.
        elapsed_s: Wall-clock seconds the job took.
        created_at: When the chunk was written, ISO 8601 UTC.
        cpu_s: CPU seconds of the job's process from its start (imports excluded).
        processor_cpu_s: CPU seconds each processor spent, by processor id.
    """

    shard_id: str
    n_files: int
    n_images: int
    n_failed: int
    elapsed_s: float
    created_at: str
    cpu_s: float = 0.0
    processor_cpu_s: dict[str, float] = field(default_factory=dict)


def chunk_field(name: str, inferred: pa.DataType) -> pa.Field:
    """The chunk field of a column: the catalog's (nullable) if declared, else inferred."""
    if catalog.lookup(name) is None:
        return pa.field(name, inferred)
    return catalog.arrow_field(name).with_nullable(True)


def unify_types(name: str, a: pa.DataType, b: pa.DataType) -> pa.DataType:
    """One Arrow type that holds values of both ``a`` and ``b`` for column ``name``.

    Numeric types widen and null takes the other type. Types that do not unify (e.g. a
    pass-through metadata value that is a number in one file and text in another) fall
    back to a string, with a warning.

    Raises:
        TypeError: when neither promotion nor a string fallback can hold both.
    """
    if a == b:
        return a
    try:
        unified = pa.unify_schemas(
            [pa.schema([pa.field(name, a)]), pa.schema([pa.field(name, b)])],
            promote_options="permissive",
        )
        return unified.field(name).type
    except (pa.ArrowTypeError, pa.ArrowInvalid) as exc:
        nested = (pa.types.is_nested(t) or pa.types.is_binary(t) for t in (a, b))
        if any(nested):
            raise TypeError(f"column {name!r} holds both {a} and {b}; they do not unify") from exc
    logger.warning("column %r holds both %s and %s; storing it as text", name, a, b)
    return pa.large_string()


def union_schema(current: pa.Schema, incoming: Iterable[pa.Field]) -> pa.Schema:
    """``current`` widened to hold ``incoming`` too: shared types unified, new fields last.

    Raises:
        TypeError: as :func:`unify_types`.
    """
    new = {f.name: f for f in incoming}
    merged = [
        f.with_type(unify_types(f.name, f.type, new[f.name].type)) if f.name in new else f
        for f in current
    ]
    merged += [f for name, f in new.items() if name not in current.names]
    return pa.schema(merged, metadata=current.metadata)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly the fields of ``schema``: cast, reordered, missing as null.

    Raises:
        pyarrow.ArrowInvalid: when a value cannot be cast (e.g. text in an int column).
    """
    arrays = [
        table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def rows_to_arrow(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Row dicts as an Arrow table: the union of their keys, missing values null.

    Declared columns get the catalog's Arrow type. An undeclared column whose values
    share no type (e.g. pass-through metadata that is a number in one file and text in
    another) is stored as text, with a warning.
    """
    names = list(dict.fromkeys(key for row in rows for key in row))
    arrays = []
    for name in names:
        values = [row.get(name) for row in rows]
        declared = catalog.lookup(name)
        if declared is not None:
            arrays.append(pa.array(values, type=catalog.arrow_type(declared.type)))
            continue
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            logger.warning("column %r holds values of mixed types; storing it as text", name)
            arrays.append(pa.array([None if v is None else str(v) for v in values]))
    return pa.Table.from_arrays(arrays, names=names)


class ChunkWriter:
    """Writes a chunk incrementally and atomically.

    Rows go to a temporary file next to ``path``; :meth:`close` adds the
    :class:`ChunkInfo` and renames it into place. Leaving the ``with`` block by an
    exception (or without :meth:`close`) removes the temporary file, so ``path`` is
    either the complete chunk or untouched. A frame that brings new columns (or wider
    types) rewrites the parts written so far once, one row group at a time.

    Example:
        >>> with ChunkWriter(path, rows_per_part=10_000) as writer:  # doctest: +SKIP
        ...     writer.write(rows)
        ...     writer.close(info)
    """

    def __init__(self, path: Path, *, rows_per_part: int) -> None:
        """Prepare a writer for ``path``; nothing is created before the first write."""
        if rows_per_part < 1:
            raise ValueError(f"rows_per_part must be >= 1, got {rows_per_part}")
        self.path = Path(path)
        self.rows_per_part = rows_per_part
        self._schema: pa.Schema | None = None
        self._writer: pq.ParquetWriter | None = None
        self._temp: Path | None = None
        self._done = False

    def __enter__(self) -> ChunkWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._done:
            return
        self.abort()
        if exc_type is None:
            raise RuntimeError(f"chunk writer for '{self.path}' left without close(info)")

    def _open(self, schema: pa.Schema) -> pq.ParquetWriter:
        self._temp = new_temp_file(self.path)  # honours the umask, unlike mkstemp
        self._schema = schema
        self._writer = pq.ParquetWriter(self._temp, schema, compression=COMPRESSION)
        return self._writer

    def _widen(self, schema: pa.Schema) -> None:
        """Reopen with ``schema`` and copy the parts written so far into it."""
        old_temp, old_writer = self._temp, self._writer
        assert old_temp is not None and old_writer is not None
        old_writer.close()
        writer = self._open(schema)
        try:
            source = pq.ParquetFile(old_temp)
            for i in range(source.num_row_groups):
                writer.write_table(conform(source.read_row_group(i), schema))
        finally:
            old_temp.unlink(missing_ok=True)

    def write(self, rows: pl.DataFrame | Sequence[Mapping[str, Any]]) -> None:
        """Append ``rows`` as parts (row groups) of at most ``rows_per_part`` rows.

        Declared columns are cast to the catalog's Arrow types; undeclared ones keep
        theirs. Columns missing from ``rows`` but already in the chunk are null.

        Args:
            rows: A frame, or row dicts (keys may differ between rows; see
                :func:`rows_to_arrow`).

        Raises:
            TypeError: when a column's type cannot join the chunk's type for it.
            pyarrow.ArrowInvalid: when a value cannot be cast to the catalog type.
        """
        if self._done:
            raise RuntimeError(f"chunk '{self.path}' is already closed")
        table = rows_to_arrow(rows) if isinstance(rows, Sequence) else rows.to_arrow()
        incoming = [chunk_field(f.name, f.type) for f in table.schema]
        if self._schema is None:
            self._open(pa.schema(incoming))
        else:
            wider = union_schema(self._schema, incoming)
            if wider != self._schema:
                self._widen(wider)
        assert self._writer is not None and self._schema is not None
        if table.num_rows:
            self._writer.write_table(
                conform(table, self._schema), row_group_size=self.rows_per_part
            )

    def close(self, info: ChunkInfo) -> None:
        """Store ``info`` in the footer and move the chunk into place atomically."""
        if self._done:
            raise RuntimeError(f"chunk '{self.path}' is already closed")
        if self._writer is None:
            self._open(pa.schema([]))
        assert self._writer is not None and self._temp is not None
        try:
            self._writer.add_key_value_metadata({CHUNK_META_KEY: json.dumps(asdict(info))})
            self._writer.close()
            self._temp.replace(self.path)
        except BaseException:
            self.abort()
            raise
        self._done = True
        logger.debug("wrote chunk %s (%s)", self.path, info.shard_id)

    def abort(self) -> None:
        """Drop the temporary file; ``path`` stays as it was."""
        self._done = True
        if self._writer is not None:
            with contextlib.suppress(OSError, pa.ArrowException):
                self._writer.close()
        if self._temp is not None:
            self._temp.unlink(missing_ok=True)


def write_chunk(rows: pl.DataFrame, path: Path, info: ChunkInfo, *, rows_per_part: int) -> None:
    """Write a shard's rows and its :class:`ChunkInfo` to ``path`` atomically.

    Args:
        rows: The shard's rows (no ``imported_path_short``; the merge adds it).
        path: Destination chunk file; its folder must exist.
        info: How the shard job went, stored in the key-value metadata.
        rows_per_part: Most rows per Parquet row group.
    """
    with ChunkWriter(path, rows_per_part=rows_per_part) as writer:
        writer.write(rows)
        writer.close(info)


def read_chunk_info(path: Path) -> ChunkInfo:
    """Read the :class:`ChunkInfo` of a chunk from its footer only.

    Raises:
        NotAReportError: when ``path`` is missing, not Parquet or not a chunk.
    """
    hint = "delete it and rerun the workflow so its shard is processed again"
    try:
        raw = (pq.read_metadata(path).metadata or {}).get(CHUNK_META_KEY)
    except (pa.ArrowException, OSError) as exc:
        raise NotAReportError(f"chunk '{path}' cannot be read ({exc}); {hint}") from exc
    if raw is None:
        raise NotAReportError(f"'{path}' is not a PixelPatrol chunk (no chunk info); {hint}")
    try:
        values = json.loads(raw)
        return ChunkInfo(**{f.name: values[f.name] for f in fields(ChunkInfo) if f.name in values})
    except (ValueError, KeyError, TypeError) as exc:
        raise NotAReportError(f"chunk '{path}' has unreadable chunk info ({exc}); {hint}") from exc
