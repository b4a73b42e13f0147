"""What the merge keeps while it streams the chunks: counts, and row groups to write.

:class:`Counter` counts rows, images and failures and keeps each chunk's distinct paths;
:class:`RowGroups` buffers tables and writes them as row groups of a fixed size. What
does not belong here: reading, validating or judging the chunks (:mod:`.combine`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq


@dataclass
class Counter:
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


class RowGroups:
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
