"""Merge of the shard chunks into the final report Parquet.

What belongs here: joining chunk files in shard order, adding ``imported_path_short``,
validating, counting and writing the report atomically with its footer. What does not:
the footer's content (:mod:`pixel_patrol_base.table.footer`), the checks
(:mod:`pixel_patrol_base.table.validation`) or the chunk format
(:mod:`pixel_patrol_base.pipeline.shard.chunks`).

Call graph::

    merge_chunks
      ├─ _plan_schema        chunk footers only -> one unified, ordered schema
      ├─ _temp_path          the temp file the report is written to
      ├─ _stream_chunks      per chunk (streamed, one at a time):
      │    ├─ chunks.conform + labels    -> the chunk's rows in the report schema
      │    ├─ validation.find_failures   -> failure cases (collected, not raised yet)
      │    ├─ _Counter.add               -> counts, distinct paths
      │    └─ _RowGroups.add             -> row groups of row_group_size into a temp file
      ├─ _cross_chunk_duplicates         -> keys repeated in two chunks
      ├─ _raise_failures                 -> every failure case at once, if any
      └─ footer + os.replace, or remove the temp and raise
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pixel_patrol_base.errors import NotAReportError, OutputError
from pixel_patrol_base.pipeline.shard.chunks import COMPRESSION, chunk_field, conform, union_schema
from pixel_patrol_base.table import catalog, validation
from pixel_patrol_base.table.footer import FOOTER_KEY, encode_footer

logger = logging.getLogger(__name__)

LABEL_COLUMN = "imported_path_short"
PASSTHROUGH_DESCRIPTION = "Metadata passed through by the loader; not in the column catalog."


@dataclass(frozen=True)
class MergeResult:
    """What the merge wrote.

    Attributes:
        rows: Rows in the report.
        files: Distinct paths.
        images: Level-0 rows of images (non-null ``dtype``) that loaded without error.
        failed: Rows with a ``load_error``.
        output: The report file.
    """

    rows: int
    files: int
    images: int
    failed: int
    output: Path


def _chunk_error(chunk: Path, exc: Exception) -> NotAReportError:
    return NotAReportError(
        f"chunk '{chunk}' cannot be read ({exc}); delete it and rerun the workflow so its "
        "shard is processed again"
    )


def column_order(names: Sequence[str]) -> list[str]:
    """Catalog order for declared columns (patterns by axis), then the rest sorted."""
    rank = {n: i for i, n in enumerate(n for c in catalog.all_columns() for n in c.expand())}
    declared = sorted((n for n in names if n in rank), key=rank.__getitem__)
    return declared + sorted(n for n in names if n not in rank)


def _plan_schema(chunks: Sequence[Path]) -> tuple[pa.Schema, pa.Schema]:
    """From the chunk footers: (nullable schema to read chunks into, report schema)."""
    unified = pa.schema([])
    for chunk in chunks:
        try:
            schema = pq.read_metadata(chunk).schema.to_arrow_schema()
        except (pa.ArrowException, OSError) as exc:
            raise _chunk_error(chunk, exc) from exc
        try:
            unified = union_schema(unified, [chunk_field(f.name, f.type) for f in schema])
        except TypeError as exc:
            raise validation.validation_error(
                _failure(chunk.name, None, "consistent types across chunks", str(exc)),
                hint="Make the loader store this metadata with one type, then rerun.",
            ) from exc
    if not unified.names:
        unified = pa.schema([chunk_field(n, pa.null()) for n in catalog.core_column_names()])
    names = column_order([n for n in unified.names if n != LABEL_COLUMN] + [LABEL_COLUMN])
    reading = pa.schema(
        [unified.field(n) if n in unified.names else chunk_field(n, pa.null()) for n in names]
    )
    final = pa.schema(
        [
            catalog.arrow_field(f.name)
            if catalog.lookup(f.name) is not None
            else f.with_metadata({"description": PASSTHROUGH_DESCRIPTION})
            for f in reading
        ]
    )
    return reading, final


def _failure(source: str, column: str | None, check: str, case: str) -> pl.DataFrame:
    row = {"source": source, "column": column, "check": check, "failure_case": case}
    return pl.DataFrame([row], schema=validation.FAILURE_SCHEMA)


@dataclass
class _Counter:
    """Counts over all chunks; keeps only each chunk's distinct paths."""

    rows: int = 0
    images: int = 0
    failed: int = 0
    paths: list[pl.DataFrame] = field(default_factory=list)

    def add(self, df: pl.DataFrame, source: int) -> None:
        self.rows += df.height
        level0 = pl.col("obs_level") == 0
        is_image = pl.col("dtype").is_not_null() if "dtype" in df.columns else pl.lit(False)
        self.images += df.filter(level0 & pl.col("load_error").is_null() & is_image).height
        self.failed += df.filter(pl.col("load_error").is_not_null()).height
        distinct = df.select(pl.col("path").drop_nulls().unique())
        self.paths.append(distinct.with_columns(chunk=pl.lit(source, pl.Int32)))

    def counts(self) -> dict[str, int]:
        """The report's counts: distinct files, images, failed rows and rows."""
        files = pl.concat(self.paths)["path"].n_unique() if self.paths else 0
        return {"files": files, "images": self.images, "failed": self.failed, "rows": self.rows}


class _RowGroups:
    """Buffers tables and writes them as row groups of exactly ``size`` rows (last: fewer)."""

    def __init__(self, writer: pq.ParquetWriter, size: int) -> None:
        self.writer, self.size = writer, size
        self.pending: list[pa.Table] = []
        self.n_pending = 0

    def add(self, table: pa.Table) -> None:
        self.pending.append(table)
        self.n_pending += table.num_rows
        if self.n_pending >= self.size:
            self._flush(self.n_pending // self.size * self.size)

    def _flush(self, n: int) -> None:
        combined = pa.concat_tables(self.pending)
        if n:
            self.writer.write_table(combined.slice(0, n), row_group_size=self.size)
        self.pending, self.n_pending = [combined.slice(n)], combined.num_rows - n

    def finish(self) -> None:
        if self.n_pending:
            self._flush(self.n_pending)


def _cross_chunk_duplicates(chunks: Sequence[Path], counter: _Counter) -> pl.DataFrame:
    """Failure cases for row keys that occur in more than one chunk."""
    paths = pl.concat(counter.paths) if counter.paths else pl.DataFrame()
    if paths.is_empty():
        return pl.DataFrame(schema=validation.FAILURE_SCHEMA)
    shared = paths.filter(pl.col("chunk").n_unique().over("path") > 1)
    if shared.is_empty():
        return pl.DataFrame(schema=validation.FAILURE_SCHEMA)
    frames = []
    for i in shared["chunk"].unique().sort():
        scan = pl.scan_parquet(chunks[i]).with_row_index("index")
        present = [k for k in catalog.key_columns() if k in scan.collect_schema().names()]
        rows = scan.filter(pl.col("path").is_in(shared["path"].implode())).select("index", *present)
        frames.append(rows.collect().with_columns(source=pl.lit(chunks[i].name)))
    keys = pl.concat(frames, how="diagonal_relaxed")
    key_cols = [k for k in catalog.key_columns() if k in keys.columns]
    dups = keys.filter(pl.col("source").n_unique().over(key_cols) > 1)
    return pl.DataFrame(
        [
            {
                "source": row["source"],
                "check": validation.UNIQUENESS_CHECK,
                "failure_case": "key also in another chunk",
                "index": row["index"],
                "path": row["path"],
                "row_values": validation.describe_row(row, None),
            }
            for row in dups.iter_rows(named=True)
        ],
        schema=validation.FAILURE_SCHEMA,
    )


def _labelled(df: pl.DataFrame, labels: Mapping[str, str]) -> pl.DataFrame:
    if "imported_path" not in df.columns:
        return df.with_columns(pl.lit(None, pl.String).alias(LABEL_COLUMN))
    label = pl.col("imported_path").replace_strict(
        dict(labels), default=None, return_dtype=pl.String
    )
    return df.with_columns(label.alias(LABEL_COLUMN))


def merge_chunks(
    chunks: Sequence[Path],
    output: Path,
    *,
    labels: Mapping[str, str],
    metadata: Mapping[str, Any],
    row_group_size: int,
) -> MergeResult:
    """Merge chunk files into the validated report at ``output``, atomically.

    Chunks are streamed one at a time, so memory is bounded by the largest chunk (as
    Arrow plus polars, which share buffers), one pending row group, and the distinct
    paths of all chunks (for the file count and the cross-chunk key check), not by
    the report size.

    Args:
        chunks: Chunk files in shard order (contiguous ranges of sorted paths); their
            rows keep this order. Missing columns become null.
        output: The report file; replaced only once the new one is complete.
        labels: ``imported_path`` -> short label, stored as ``imported_path_short``.
        metadata: Footer metadata (see :class:`~pixel_patrol_base.table.footer.ProjectMetadata`);
            its ``counts`` are updated with files, images, failed and rows.
        row_group_size: Rows per Parquet row group.

    Returns:
        The counts and the output path.

    Raises:
        ReportValidationError: listing every failed check of every chunk; nothing is
            written and the chunks are kept.
        NotAReportError: when a chunk cannot be read.
        OutputError: when ``output`` cannot be written.
    """
    if row_group_size < 1:
        raise ValueError(f"row_group_size must be >= 1, got {row_group_size}")
    output, chunks = Path(output), [Path(c) for c in chunks]
    reading, final = _plan_schema(chunks)
    temp = _temp_path(output)
    try:
        with pq.ParquetWriter(temp, final, compression=COMPRESSION) as writer:
            groups = _RowGroups(writer, row_group_size)
            counter, failures = _stream_chunks(chunks, labels, reading, final, groups)
            failures.append(_cross_chunk_duplicates(chunks, counter))
            _raise_failures(failures, chunks)
            groups.finish()
            counts = counter.counts()
            footer = {**metadata, "counts": {**metadata.get("counts", {}), **counts}}
            writer.add_key_value_metadata({FOOTER_KEY: encode_footer(footer)})
        temp.replace(output)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise OutputError(
            f"cannot write the report '{output}' ({exc}); check the free space "
            "and permissions of its folder"
        ) from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    logger.info("merged %d chunks into %s: %s", len(chunks), output, json.dumps(counts))
    return MergeResult(counter.rows, counts["files"], counter.images, counter.failed, output)


def _temp_path(output: Path) -> Path:
    """A new empty temporary file next to ``output`` (its folder made if needed).

    Raises:
        OutputError: when the folder cannot be written.
    """
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
        os.close(fd)
    except OSError as exc:
        raise OutputError(
            f"cannot write the report '{output}' ({exc}); choose a writable output location"
        ) from exc
    return Path(name)


def _stream_chunks(
    chunks: Sequence[Path],
    labels: Mapping[str, str],
    reading: pa.Schema,
    final: pa.Schema,
    groups: _RowGroups,
) -> tuple[_Counter, list[pl.DataFrame]]:
    """Read, label, validate and count each chunk in turn; write its rows to ``groups``
    while no chunk has failed.

    Returns:
        The counts, and the failure cases of every chunk (empty frames left out).

    Raises:
        NotAReportError: when a chunk cannot be read.
    """
    chunk_schema = reading.remove(reading.get_field_index(LABEL_COLUMN))
    counter, failures = _Counter(), []
    for i, chunk in enumerate(chunks):
        try:
            table = pq.read_table(chunk)
        except (pa.ArrowException, OSError) as exc:
            raise _chunk_error(chunk, exc) from exc
        try:
            table = conform(table, chunk_schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            failures.append(_failure(chunk.name, None, "cast to catalog types", str(exc)))
            continue
        df = _labelled(pl.DataFrame(table), labels).select(reading.names)
        found = validation.find_failures(df, source=chunk.name)
        if found.height:
            failures.append(found)
        counter.add(df, i)
        if not failures:
            groups.add(conform(df.to_arrow(), final))
        del table, df
    return counter, failures


def _raise_failures(failures: Sequence[pl.DataFrame], chunks: Sequence[Path]) -> None:
    """Raise every failure case at once, if there is any.

    Raises:
        ReportValidationError: listing every failed check of every chunk.
    """
    failure_cases = pl.concat(failures)
    if failure_cases.height:
        raise validation.validation_error(
            failure_cases,
            hint=f"Nothing was written; the chunks are kept in '{chunks[0].parent}'. "
            "Fix the plugin that produced these rows, delete its chunks and rerun.",
        )
