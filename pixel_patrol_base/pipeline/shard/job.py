"""Process one shard: turn its file entries into rows and write its chunk Parquet.

Call graph::

    run_shard(shard.json, chunk.parquet, config)
      ├─ file_row(entry)                       file columns, every entry
      ├─ _gone(path)                           a file that vanished (or cannot be read)
      │                                        since the plan: its row gets load_error
      ├─ images.image_rows(entry, ...)         header + pixel rows, when a loader is set
      │                                        (a name that is not UTF-8 is opened by
      │                                        its raw bytes: plan.names.raw_path)
      ├─ CountWriter.update(done)             progress/<id>.txt, at most twice a second
      └─ chunks.ChunkWriter                    parts of rows_per_part rows, atomic rename

The loop over files is tight on purpose: one job handles many files, so the cost of
starting a job (an interpreter and its imports) is paid once per shard, not per file.
No file stops the job: whatever goes wrong with one becomes its row's ``load_error``.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pixel_patrol_base.pipeline.counts import CountWriter
from pixel_patrol_base.pipeline.plan.discovery import FileEntry
from pixel_patrol_base.pipeline.plan.names import printable, raw_path
from pixel_patrol_base.pipeline.plan.planner import read_entries
from pixel_patrol_base.pipeline.run.config import RunConfig
from pixel_patrol_base.table.catalog import AXES

log = logging.getLogger(__name__)

BAD_NAME_WARNING = (
    "the file name is not valid UTF-8: path shows each undecodable byte as \\xNN, "
    "and path_bytes_b64 holds the raw name"
)
"""The ``load_warnings`` entry of a row whose file name is not valid UTF-8."""


_NO_DIMS = {f"dim_{axis.lower()}": None for axis in AXES}


def file_row(entry: FileEntry) -> dict[str, Any]:
    """The file columns of one entry (level 0, no child image).

    ``load_error`` is the entry's discovery error, if any; a name that is not valid UTF-8
    gets ``path_bytes_b64`` and a ``load_warnings`` entry.
    """
    # String operations, not PurePosixPath: this runs once per file, 100,000 times a shard
    # without a loader. Entry paths are normalised ('a/b/c.tif': no '.', no '//').
    parent, _, name = entry.path.rpartition("/")
    return {
        "path": entry.path,
        "child_id": None,
        "obs_level": 0,
        **_NO_DIMS,
        "name": name,
        "parent": parent or ".",
        "depth": entry.path.count("/"),
        "file_extension": entry.extension,
        "size_bytes": entry.size_bytes,
        "modification_date": datetime.fromtimestamp(entry.mtime_ns / 1e9, UTC),
        "imported_path": entry.imported_path,
        "type": entry.type,
        "load_error": entry.error,
        "processor_errors": None,
        "path_bytes_b64": entry.path_bytes_b64,
        "load_warnings": None if entry.path_bytes_b64 is None else [BAD_NAME_WARNING],
    }


def _gone(path: str) -> str | None:
    """Why a planned file can no longer be read, or ``None`` when it is still there."""
    try:
        os.stat(path)  # noqa: PTH116 (a str: no Path built per file)
    except FileNotFoundError:
        return "the file was listed when the run was planned and has vanished since"
    except OSError as exc:
        return f"cannot read the file's information: {exc.strerror}"
    return None


def _printable(value: Any) -> Any:
    """``value`` with undecodable bytes in its text (also inside lists) as ``\\xNN``."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, list | tuple):
        return [_printable(v) for v in value]
    return value


def _bad_name_rows(rows: list[dict[str, Any]], warnings: list[str]) -> list[dict[str, Any]]:
    """The rows of a file whose name is not valid UTF-8, made writable.

    A message naming the file (a ``load_error``, a metadata value) holds its undecodable
    bytes: they are written as ``\\xNN``. Each image row gets ``warnings`` first.
    """
    fixed = [{key: _printable(value) for key, value in row.items()} for row in rows]
    for row in fixed:
        if row["obs_level"] == 0:
            row["load_warnings"] = [*warnings, *(row.get("load_warnings") or [])]
    return fixed


def run_shard(shard_path: Path, chunk_path: Path, config: RunConfig, progress_path: Path) -> None:
    """Process every entry of ``shard_path`` and write ``chunk_path`` atomically."""
    from pixel_patrol_base.pipeline.shard.chunks import ChunkInfo, ChunkWriter

    started, cpu_started = time.perf_counter(), time.process_time()
    entries = read_entries(shard_path)
    base_dir = config.base_dir
    progress = CountWriter(progress_path)
    image_rows = None
    if config.loader is not None:
        from pixel_patrol_base.pipeline.shard.images import ImageRows

        image_rows = ImageRows(config)
    rows_per_part = config.rows_per_part
    n_images = n_failed = 0
    buffer: list[dict[str, Any]] = []
    with ChunkWriter(chunk_path, rows_per_part=rows_per_part) as writer:
        for done, entry in enumerate(entries, start=1):
            row = file_row(entry)
            path = raw_path(base_dir, entry.path, entry.path_bytes_b64)
            row["load_error"] = row["load_error"] or _gone(path)
            if image_rows is None or row["load_error"] is not None:
                n_failed += row["load_error"] is not None
                buffer.append(row)
            else:
                rows = image_rows.rows(Path(path), {**row, "load_warnings": None})
                if entry.path_bytes_b64 is not None:
                    rows = _bad_name_rows(rows, row["load_warnings"])
                n_images += image_rows.last_image_count
                n_failed += rows[0]["load_error"] is not None
                buffer.extend(rows)
            if len(buffer) >= rows_per_part:
                writer.write(buffer)
                buffer = []
            progress.update(done)
        if buffer:
            writer.write(buffer)
        writer.close(
            ChunkInfo(
                shard_id=shard_path.stem,
                n_files=len(entries),
                n_images=n_images,
                n_failed=n_failed,
                elapsed_s=time.perf_counter() - started,
                created_at=datetime.now(UTC).isoformat(),
                cpu_s=time.process_time() - cpu_started,
                processor_cpu_s=dict(image_rows.cpu_s) if image_rows is not None else {},
            )
        )
    progress.update(len(entries), force=True)
    log.info(
        "shard %s: %d files, %d images, %d failed in %.2fs",
        shard_path.stem,
        len(entries),
        n_images,
        n_failed,
        time.perf_counter() - started,
    )
