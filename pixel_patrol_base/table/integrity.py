"""The report's own checksums: sealing a written report and verifying it.

What belongs here: the checksum of every column chunk of a report, recorded in its
footer under :data:`CHECKSUM_KEY` (:func:`seal`, called by the merge on its temp file),
checking them again (:func:`verify`, behind ``api.load(verify=True)``, ``pixel-patrol
verify`` and the no-change rerun path), and the digest that names one sealed report
(:func:`report_digest`). What does not: writing the table (see
:mod:`pixel_patrol_base.pipeline.merge.combine`) or reading the project metadata
(:mod:`pixel_patrol_base.table.footer`).

How a report is sealed: the merge writes the table with pyarrow's ``ParquetWriter``
(data pages, then a provisional footer); :func:`seal` reads that footer, computes a
CRC-32 over each column chunk's bytes (its dictionary and data pages with their page
headers), and replaces the provisional footer by one that holds the same row groups
plus the project metadata and the checksums. The data pages are written once; only the
footer (a few KiB) is rewritten, in the temp file, before the merge renames it.

``PIXEL_PATROL_TEST_MERGE_EXIT`` is for tests only: when it names a point of the merge
(:data:`FAULT_POINTS`), the process ends there at once with ``os._exit(137)``, as a
``kill -9`` would, so that tests can check that a rerun recovers.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pixel_patrol_base.errors import NotAReportError, ReportCorruptError

logger = logging.getLogger(__name__)

CHECKSUM_KEY = b"pixel_patrol.checksums"
"""Key of the checksums JSON in the Parquet key-value metadata."""

ALGORITHM = "crc32"
"""Checksum of each column chunk: zlib's CRC-32 (corruption, not tampering)."""

FAULT_ENV = "PIXEL_PATROL_TEST_MERGE_EXIT"
"""Test-only environment variable: the merge exits (137) at the point it names."""

FAULT_POINTS = ("after-temp-write", "during-footer", "before-rename")
"""Where :data:`FAULT_ENV` can stop the merge: the table written to the temp file with
its provisional footer; the footer half rewritten; the report sealed, not yet renamed."""

_BLOCK = 8 << 20
_MAGIC = b"PAR1"
_ARROW_SCHEMA = b"ARROW:schema"
_NEXT_STEP = "rerun 'pixel-patrol process' to rebuild it from its chunks"


def fault_point(name: str) -> None:
    """End the process with status 137 when :data:`FAULT_ENV` names ``name`` (tests only)."""
    if os.environ.get(FAULT_ENV) == name:
        logger.warning("%s=%s: exiting here (test-only fault injection)", FAULT_ENV, name)
        logging.shutdown()
        os._exit(137)


@dataclass(frozen=True)
class ChunkSum:
    """One column chunk: where it lies in the file and its checksum."""

    row_group: int
    column: str
    start: int
    length: int
    crc: str


def _layout(metadata: pq.FileMetaData) -> list[tuple[int, str, int, int]]:
    """(row group, column, start, length) of every column chunk, in file order."""
    chunks = []
    for i in range(metadata.num_row_groups):
        group = metadata.row_group(i)
        for j in range(group.num_columns):
            column = group.column(j)
            start = column.data_page_offset
            if column.has_dictionary_page and column.dictionary_page_offset:
                start = min(start, column.dictionary_page_offset)
            chunks.append((i, column.path_in_schema, start, column.total_compressed_size))
    return chunks


def _crc(handle: io.BufferedReader, start: int, length: int) -> str:
    handle.seek(start)
    crc, left = 0, length
    while left > 0:
        block = handle.read(min(_BLOCK, left))
        if not block:
            break
        crc = zlib.crc32(block, crc)
        left -= len(block)
    return f"{crc:08x}"


def _checksums(path: Path, metadata: pq.FileMetaData) -> list[ChunkSum]:
    with path.open("rb") as handle:
        return [
            ChunkSum(group, column, start, length, _crc(handle, start, length))
            for group, column, start, length in _layout(metadata)
        ]


def _encode(sums: list[ChunkSum]) -> bytes:
    entry = {
        "algorithm": ALGORITHM,
        "column_chunks": [[s.row_group, s.column, s.start, s.length, s.crc] for s in sums],
    }
    return json.dumps(entry, separators=(",", ":")).encode()


def _footer_start(handle: io.BufferedRandom, size: int) -> int:
    """Offset of the Parquet footer (its thrift metadata) in a file of ``size`` bytes."""
    handle.seek(size - 8)
    tail = handle.read(8)
    if len(tail) != 8 or tail[4:] != _MAGIC:
        raise ValueError("the file does not end with a Parquet footer")
    return size - 8 - int.from_bytes(tail[:4], "little")


def _footer(schema: pa.Schema, data: pq.FileMetaData, key_values: Mapping[bytes, bytes]) -> bytes:
    """A complete Parquet footer (metadata, length, magic) for ``data``'s row groups."""
    empty = io.BytesIO()
    with pq.ParquetWriter(empty, schema) as writer:
        writer.add_key_value_metadata(dict(key_values))
    metadata = pq.read_metadata(pa.BufferReader(empty.getvalue()))
    metadata.append_row_groups(data)
    sink = io.BytesIO()
    metadata.write_metadata_file(sink)
    return sink.getvalue()[len(_MAGIC) :]  # a metadata file is PAR1 + footer


def seal(path: Path, schema: pa.Schema, key_values: Mapping[bytes, bytes]) -> str:
    """Give the Parquet file at ``path`` its final footer: ``key_values`` and checksums.

    ``path`` must have been written by ``pyarrow.parquet.ParquetWriter`` with ``schema``
    (its key-value metadata is replaced). Only the footer is rewritten, in place.

    Args:
        path: The file, complete but for its metadata (the merge's temp file).
        schema: The Arrow schema it was written with.
        key_values: The key-value metadata to store (e.g. the project metadata).

    Returns:
        The report's digest (:func:`report_digest`).

    Raises:
        OSError: when the file cannot be read or written.
    """
    data = pq.read_metadata(path)
    checksums = _encode(_checksums(path, data))
    footer = _footer(schema, data, {**key_values, CHECKSUM_KEY: checksums})
    with path.open("r+b") as handle:
        start = _footer_start(handle, path.stat().st_size)
        handle.truncate(start)
        handle.seek(start)
        half = len(footer) // 2
        handle.write(footer[:half])
        handle.flush()
        fault_point("during-footer")
        handle.write(footer[half:])
        handle.flush()
        os.fsync(handle.fileno())
    return _digest_of({**key_values, CHECKSUM_KEY: checksums})


def _digest(key_values: Mapping[bytes, bytes], checksums: bytes) -> str:
    digest = hashlib.sha256(checksums)
    for key in sorted(key_values):
        digest.update(key + b"\0" + key_values[key] + b"\0")
    return digest.hexdigest()[:32]


def _read(src: Path) -> tuple[pq.FileMetaData, dict[bytes, bytes]]:
    from pixel_patrol_base.table.footer import read_metadata

    read_metadata(src)  # NotAReportError unless a PixelPatrol report
    metadata = pq.read_metadata(src)
    return metadata, dict(metadata.metadata or {})


def _corrupt(src: Path, why: str) -> ReportCorruptError:
    return ReportCorruptError(f"'{src}' is corrupt: {why}; {_NEXT_STEP}")


def _recorded(src: Path, key_values: Mapping[bytes, bytes]) -> list[list[Any]]:
    raw = key_values.get(CHECKSUM_KEY)
    if raw is None:
        raise ReportCorruptError(
            f"'{src}' carries no checksums (written by an older PixelPatrol), so it cannot "
            f"be verified; {_NEXT_STEP}"
        )
    try:
        entry = json.loads(raw)
        chunks: list[list[Any]] = entry["column_chunks"]
        algorithm = entry["algorithm"]
    except (ValueError, KeyError, TypeError) as exc:
        raise _corrupt(src, f"its checksums cannot be read ({exc})") from exc
    if algorithm != ALGORITHM:
        raise ReportCorruptError(
            f"'{src}' uses checksum {algorithm!r}, which this PixelPatrol cannot check; "
            "upgrade pixel-patrol"
        )
    return chunks


def report_digest(src: str | Path) -> str:
    """The digest naming one sealed report: its metadata and checksums (footer only).

    Raises:
        NotAReportError: when ``src`` is not a PixelPatrol report.
        ReportCorruptError: when it carries no readable checksums.
    """
    path = Path(src)
    _, key_values = _read(path)
    _recorded(path, key_values)
    return _digest_of(key_values)


def _digest_of(key_values: Mapping[bytes, bytes]) -> str:
    """:func:`_digest` of a sealed report's key-value metadata."""
    others = {k: v for k, v in key_values.items() if k not in (CHECKSUM_KEY, _ARROW_SCHEMA)}
    return _digest(others, key_values[CHECKSUM_KEY])


def verify(src: str | Path) -> str:
    """Check every column chunk of a report against the checksums in its footer.

    Reads the whole file once (about as fast as the disk or page cache delivers).

    Args:
        src: Path to the report Parquet file.

    Returns:
        The report's digest (:func:`report_digest`).

    Raises:
        NotAReportError: when ``src`` is missing, not Parquet or not a PixelPatrol report.
        ReportCorruptError: when a column chunk differs from its checksum, the footer's
            layout differs from the one sealed, or the report carries no checksums.
    """
    path = Path(src)
    metadata, key_values = _read(path)
    recorded = _recorded(path, key_values)
    actual = _layout(metadata)
    if [tuple(r[:4]) for r in recorded] != actual:
        raise _corrupt(path, "its footer does not describe the column chunks it was sealed with")
    bad = []
    try:
        with path.open("rb") as handle:
            for group, column, start, length, crc in recorded:
                if _crc(handle, start, length) != crc:
                    bad.append(f"row group {group} column {column!r}")
    except OSError as exc:
        raise NotAReportError(f"'{path}' could not be read ({exc})") from exc
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise _corrupt(path, f"{len(bad)} column chunk(s) differ from their checksum: {shown}")
    return _digest_of(key_values)


def intact(src: str | Path, digest: str) -> bool:
    """Whether ``src`` is still the report sealed with ``digest``, every chunk intact.

    For the no-change rerun path: a report whose digest differs (replaced) or that fails
    :func:`verify` (corrupt; logged as a warning) is not, so the run rebuilds it from its
    chunks. Reads the whole report when the digest matches.
    """
    path = Path(src)
    try:
        if not digest or report_digest(path) != digest:
            logger.info("'%s' is not the report the last run wrote; rebuilding it", path)
            return False
        verify(path)
    except ReportCorruptError as exc:
        logger.warning("%s (rebuilding it from the chunks now)", exc)
        return False
    except NotAReportError as exc:
        logger.info("%s; rebuilding it", exc)
        return False
    return True
