"""Process one shard: turn its file entries into rows and write its chunk Parquet.

Call graph::

    run_shard(shard.json, chunk.parquet, config)
      ├─ file_row(entry)                       file columns, every entry
      ├─ images.image_rows(entry, ...)         header + pixel rows, when a loader is set
      ├─ ProgressWriter.update(done)           progress/<id>.txt, at most twice a second
      └─ chunks.ChunkWriter                    parts of rows_per_part rows, atomic rename

The loop over files is tight on purpose: one job handles many files, so the cost of
starting a job (an interpreter and its imports) is paid once per shard, not per file.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from pixel_patrol_base.pipeline.atomic import write_text_atomic
from pixel_patrol_base.pipeline.plan.discovery import FileEntry
from pixel_patrol_base.pipeline.plan.planner import read_entries
from pixel_patrol_base.pipeline.run.config import RunConfig
from pixel_patrol_base.table.catalog import AXES

log = logging.getLogger(__name__)


def file_row(entry: FileEntry) -> dict[str, Any]:
    """The file columns of one entry (level 0, no child image)."""
    path = PurePosixPath(entry.path)
    parent = path.parent.as_posix()
    return {
        "path": entry.path,
        "child_id": None,
        "obs_level": 0,
        **{f"dim_{axis.lower()}": None for axis in AXES},
        "name": path.name,
        "parent": parent,
        "depth": len(path.parts) - 1,
        "file_extension": entry.extension,
        "size_bytes": entry.size_bytes,
        "modification_date": datetime.fromtimestamp(entry.mtime_ns / 1e9, UTC),
        "imported_path": entry.imported_path,
        "type": entry.type,
        "load_error": None,
        "processor_errors": None,
    }


class ProgressWriter:
    """Writes the number of files done to a small file, throttled."""

    def __init__(self, path: Path, interval_s: float = 0.5) -> None:
        self._path = path
        self._interval = interval_s
        self._last = 0.0
        path.parent.mkdir(parents=True, exist_ok=True)

    def update(self, done: int, *, force: bool = False) -> None:
        """Record ``done`` if the interval has passed (or ``force``)."""
        now = time.monotonic()
        if force or now - self._last >= self._interval:
            write_text_atomic(self._path, str(done), "ascii")
            self._last = now


def run_shard(shard_path: Path, chunk_path: Path, config: RunConfig, progress_path: Path) -> None:
    """Process every entry of ``shard_path`` and write ``chunk_path`` atomically."""
    from pixel_patrol_base.pipeline.shard.chunks import ChunkInfo, ChunkWriter

    started, cpu_started = time.perf_counter(), time.process_time()
    entries = read_entries(shard_path)
    base_dir = config.base_dir
    progress = ProgressWriter(progress_path)
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
            if image_rows is None:
                buffer.append(row)
            else:
                rows = image_rows.rows(base_dir / entry.path, row)
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
