"""Merge of the shard chunks into the final report Parquet.

What belongs here: joining chunk files in shard order, adding ``imported_path_short``,
``top_folder`` and the QC verdicts, validating, counting and writing the report
atomically with its footer. What does not: the footer's content
(:mod:`pixel_patrol_base.table.footer`), the checks
(:mod:`pixel_patrol_base.table.validation`), the QC rules (:mod:`.assess`,
:mod:`pixel_patrol_base.qc`) or the chunk format
(:mod:`pixel_patrol_base.pipeline.shard.chunks`).

Call graph::

    merge_chunks
      ├─ _plan_schema        chunk footers only -> one unified, ordered schema
      ├─ _temp_path          the temp file the report is written to
      ├─ _check_chunks       pass 1, per chunk (streamed, one at a time):
      │    ├─ _read_chunk + _labelled    -> the chunk's rows in the report schema
      │    ├─ validation.find_failures   -> failure cases (collected, not raised yet)
      │    ├─ Counter.add               -> counts, distinct paths
      │    └─ QcSpec.needed              -> the columns the rules read, kept
      ├─ _cross_chunk_duplicates         -> keys repeated in two chunks
      ├─ _raise_failures                 -> every failure case at once, if any
      ├─ pairing.pair                    -> duplicate_set, _kind, _of per row; summary
      ├─ assess.assess                   -> qc_status, qc_issues, qc_levels, qc_messages
      ├─ _write_chunks       pass 2, per chunk: rows + their verdicts -> RowGroups
      ├─ integrity.seal                  the final footer: metadata, qc, checksums
      └─ os.replace, or remove the temp and raise
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pixel_patrol_base.errors import NotAReportError, OutputError
from pixel_patrol_base.pipeline.atomic import new_temp_file
from pixel_patrol_base.pipeline.merge import pairing
from pixel_patrol_base.pipeline.merge.assess import FOOTER_KEY as QC_FOOTER_KEY
from pixel_patrol_base.pipeline.merge.assess import (
    LABEL_COLUMN,
    TOP_FOLDER,
    VERDICT_COLUMNS,
    QcSpec,
    assess,
    qc_footer,
    top_folder,
)
from pixel_patrol_base.pipeline.merge.buffers import Counter, RowGroups
from pixel_patrol_base.pipeline.merge.pairing import DUPLICATE_COLUMNS
from pixel_patrol_base.pipeline.shard.chunks import COMPRESSION, chunk_field, conform, union_schema
from pixel_patrol_base.table import catalog, integrity, validation
from pixel_patrol_base.table.footer import FOOTER_KEY, encode_footer

logger = logging.getLogger(__name__)

ADDED_COLUMNS = (LABEL_COLUMN, TOP_FOLDER)
"""Columns the merge derives for each chunk (before validation)."""
JUDGED_COLUMNS = (*DUPLICATE_COLUMNS, *VERDICT_COLUMNS)
"""Columns the merge computes over all rows (after validation), in the order computed."""
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
        qc: The footer's ``qc`` entry (verdict counts, group and dataset verdicts).
        digest: The report's digest (its metadata and column-chunk checksums,
            :func:`~pixel_patrol_base.table.integrity.report_digest`).
    """

    rows: int
    files: int
    images: int
    failed: int
    output: Path
    qc: dict[str, Any] = field(default_factory=dict, compare=False)
    digest: str = field(default="", compare=False)


def _chunk_error(chunk: Path, exc: Exception) -> NotAReportError:
    return NotAReportError(
        f"chunk '{chunk}' cannot be read ({exc}); delete it and rerun the workflow so its "
        "shard is processed again"
    )


def column_order(names: Sequence[str]) -> list[str]:
    """Catalog order for declared columns (patterns by axis), then the rest sorted."""
    names_in_order = (n for c in catalog.all_columns() for n in c.expand(catalog.ALL_AXES))
    rank = {n: i for i, n in enumerate(names_in_order)}
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
    merged = [n for n in unified.names if n not in (*ADDED_COLUMNS, *JUDGED_COLUMNS)]
    names = column_order([*merged, *ADDED_COLUMNS, *JUDGED_COLUMNS])
    reading = pa.schema(
        [
            unified.field(n) if n in unified.names else chunk_field(n, pa.null())
            for n in names
            if n not in JUDGED_COLUMNS
        ]
    )
    final = pa.schema(
        [
            catalog.arrow_field(n)
            if catalog.lookup(n) is not None
            else reading.field(n).with_metadata({"description": PASSTHROUGH_DESCRIPTION})
            for n in names
        ]
    )
    return reading, final


def _failure(source: str, column: str | None, check: str, case: str) -> pl.DataFrame:
    row = {"source": source, "column": column, "check": check, "failure_case": case}
    return pl.DataFrame([row], schema=validation.FAILURE_SCHEMA)


def _cross_chunk_duplicates(chunks: Sequence[Path], counter: Counter) -> pl.DataFrame:
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
    """``df`` with ``imported_path_short`` and ``top_folder`` added."""
    folder = top_folder(pl.col("path")) if "path" in df.columns else pl.lit(".")
    if "imported_path" not in df.columns:
        label = pl.lit(None, pl.String)
    else:
        label = pl.col("imported_path").replace_strict(
            dict(labels), default=None, return_dtype=pl.String
        )
    return df.with_columns(label.alias(LABEL_COLUMN), folder.alias(TOP_FOLDER))


def merge_chunks(
    chunks: Sequence[Path],
    output: Path,
    *,
    labels: Mapping[str, str],
    metadata: Mapping[str, Any],
    row_group_size: int,
    qc: QcSpec | None = None,
) -> MergeResult:
    """Merge chunk files into the validated, QC-judged report at ``output``, atomically.

    Chunks are streamed one at a time, twice: the first pass validates and counts them
    and keeps only the columns the QC rules and the duplicate search read
    (:meth:`QcSpec.needed`, :func:`.pairing.inputs`); the duplicate sets are found and
    the rules judged on those (a rule may read ``duplicate_kind``); the second pass writes
    each chunk's rows with their ``duplicate_*`` columns, ``qc_status``, ``qc_issues``
    and ``qc_messages``. So memory is bounded by the
    largest chunk (as Arrow plus polars, which share buffers), one pending row group,
    the distinct paths of all chunks (for the file count and the cross-chunk key
    check) and the rule columns of every row (a few numbers per row), not by the
    report size (thumbnails and histograms are never held for more than one chunk).

    Args:
        chunks: Chunk files in shard order (contiguous ranges of sorted paths); their
            rows keep this order. Missing columns become null.
        output: The report file; replaced only once the new one is complete.
        labels: ``imported_path`` -> short label, stored as ``imported_path_short``.
        metadata: Footer metadata (see :class:`~pixel_patrol_base.table.footer.ProjectMetadata`);
            its ``counts`` are updated with files, images, failed and rows. Its ``qc``
            entry is set to the QC results and its ``duplicates`` entry to the
            duplicate summary unless ``metadata`` already has them (a footer copied from
            another report keeps its own).
        row_group_size: Rows per Parquet row group.
        qc: The rules and grouping to judge by (default: the built-in rules, the
            default grouping without added paths).

    Returns:
        The counts, the output path and the QC footer entry.

    Raises:
        ReportValidationError: listing every failed check of every chunk; nothing is
            written and the chunks are kept.
        NotAReportError: when a chunk cannot be read.
        SettingsError: when the QC group column is not in the table.
        OutputError: when ``output`` cannot be written.
    """
    if row_group_size < 1:
        raise ValueError(f"row_group_size must be >= 1, got {row_group_size}")
    spec = qc if qc is not None else QcSpec()
    output, chunks = Path(output), [Path(c) for c in chunks]
    reading, final = _plan_schema(chunks)
    counter, failures, needed = _check_chunks(chunks, labels, reading, spec)
    failures.append(_cross_chunk_duplicates(chunks, counter))
    _raise_failures(failures, chunks)
    paired = pairing.pair(needed, chunks)
    needed = needed.hstack(paired.columns)
    result = assess(needed, spec)
    verdicts = paired.columns.hstack(result.rows.select(VERDICT_COLUMNS))
    del needed
    counts = counter.counts()
    qc_entry = qc_footer(result, spec.rules)
    footer = {
        QC_FOOTER_KEY: qc_entry,
        pairing.FOOTER_KEY: paired.summary,
        **metadata,
        "counts": {**metadata.get("counts", {}), **counts},
    }
    temp = _temp_path(output)
    try:
        with pq.ParquetWriter(temp, final, compression=COMPRESSION) as writer:
            groups = RowGroups(writer, row_group_size)
            _write_chunks(chunks, labels, (reading, final), groups, verdicts)
            groups.finish()
        integrity.fault_point("after-temp-write")
        digest = integrity.seal(temp, final, {FOOTER_KEY: encode_footer(footer)})
        integrity.fault_point("before-rename")
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
    return MergeResult(
        counter.rows, counts["files"], counter.images, counter.failed, output, qc_entry, digest
    )


def stale_temp_files(output: Path) -> list[Path]:
    """Temp files a killed merge left next to ``output``: ``.<name>.XXXXXXXX.tmp``.

    Only regular files (not links) named exactly as :func:`_temp_path` names them for
    ``output`` match; the run lock ensures that no merge of ``output`` runs meanwhile.
    """
    pattern = re.compile(rf"\.{re.escape(output.name)}\.[a-z0-9_]{{8}}\.tmp")
    try:
        entries = list(output.parent.iterdir())
    except OSError:
        return []
    return [p for p in entries if pattern.fullmatch(p.name) and p.is_file() and not p.is_symlink()]


def remove_stale_temp_files(output: Path) -> None:
    """Remove what :func:`stale_temp_files` finds (a failure to remove one is logged)."""
    for stale in stale_temp_files(output):
        try:
            stale.unlink()
        except OSError as exc:
            logger.warning("cannot remove the stale temp file '%s' (%s)", stale, exc)
        else:
            logger.info("removed '%s', left by a merge that was killed", stale)


def _temp_path(output: Path) -> Path:
    """A new empty temporary file next to ``output`` (its folder made if needed).

    Temp files of an earlier merge of ``output`` that was killed are removed first.

    Raises:
        OutputError: when the folder cannot be written.
    """
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temp_files(output)
        temp = new_temp_file(output)  # honours the umask, unlike mkstemp
    except OSError as exc:
        raise OutputError(
            f"cannot write the report '{output}' ({exc}); choose a writable output location"
        ) from exc
    return temp


def _read_chunk(chunk: Path, schema: pa.Schema) -> pa.Table | pl.DataFrame:
    """The chunk conformed to ``schema``, or its failure case when it cannot be cast.

    Raises:
        NotAReportError: when the chunk cannot be read.
    """
    try:
        table = pq.read_table(chunk)
    except (pa.ArrowException, OSError) as exc:
        raise _chunk_error(chunk, exc) from exc
    try:
        return conform(table, schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        found = validation.cast_failures(table, schema, source=chunk.name)
        return found if found.height else _failure(chunk.name, None, "cast", str(exc))


def _chunk_schema(reading: pa.Schema) -> pa.Schema:
    """The reading schema without the columns the merge derives."""
    return pa.schema([f for f in reading if f.name not in ADDED_COLUMNS])


def _check_chunks(
    chunks: Sequence[Path],
    labels: Mapping[str, str],
    reading: pa.Schema,
    spec: QcSpec,
) -> tuple[Counter, list[pl.DataFrame], pl.DataFrame]:
    """Pass 1: read, label, validate and count each chunk in turn; keep its QC columns.

    Returns:
        The counts, the failure cases of every chunk (empty frames left out), and the
        columns the rules read, for every row in report order.

    Raises:
        NotAReportError: when a chunk cannot be read.
    """
    chunk_schema = _chunk_schema(reading)
    wanted = [*spec.needed(reading.names), *pairing.inputs(reading.names)]
    needed_names = list(dict.fromkeys(wanted))
    counter, failures, kept = Counter(), [], []
    for i, chunk in enumerate(chunks):
        table = _read_chunk(chunk, chunk_schema)
        if isinstance(table, pl.DataFrame):
            failures.append(table)
            continue
        df = _labelled(pl.DataFrame(table), labels).select(reading.names)
        found = validation.find_failures(df, source=chunk.name)
        if found.height:
            failures.append(found)
        counter.add(df, i)
        if not failures:
            kept.append(df.select(needed_names))
        del table, df
    needed = pl.concat(kept, how="vertical_relaxed") if kept else _empty(reading, needed_names)
    return counter, failures, needed


def _empty(reading: pa.Schema, names: Sequence[str]) -> pl.DataFrame:
    schema = pa.schema([reading.field(n) for n in names])
    return pl.DataFrame(schema.empty_table())


def _write_chunks(
    chunks: Sequence[Path],
    labels: Mapping[str, str],
    schemas: tuple[pa.Schema, pa.Schema],
    groups: RowGroups,
    verdicts: pl.DataFrame,
) -> None:
    """Pass 2: each chunk's rows with their verdicts (in report order) into ``groups``."""
    reading, final = schemas
    chunk_schema = _chunk_schema(reading)
    offset = 0
    for chunk in chunks:
        table = _read_chunk(chunk, chunk_schema)
        if isinstance(table, pl.DataFrame):  # passed pass 1: only if changed meanwhile
            raise _chunk_error(chunk, ValueError("it changed during the merge"))
        df = _labelled(pl.DataFrame(table), labels).select(reading.names)
        rows = verdicts.slice(offset, df.height)
        offset += df.height
        df = df.with_columns(rows).select(final.names)
        groups.add(conform(df.to_arrow(), final))
        del table, df


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
