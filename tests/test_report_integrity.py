"""The report verifies itself, on real Snakemake runs and the real CLI.

A merge killed at any point (``os._exit(137)`` at a named point, through the test-only
``PIXEL_PATROL_TEST_MERGE_EXIT``) leaves no report; the rerun removes the temp file and
writes a table equal to a clean run's. Bytes flipped in a thumbnail data page, with the
size and mtime kept, are found by ``pixel-patrol verify`` and ``api.load(verify=True)``,
and the next run rebuilds the report from its chunks. A duplicate key in a chunk that
holds thumbnails is shown by the CLI as a validation error naming the rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tifffile
from pipeline_helpers import deadline, sorted_table

from pixel_patrol_base import api
from pixel_patrol_base.errors import ReportCorruptError, WorkflowError
from pixel_patrol_base.table import integrity

pytestmark = pytest.mark.slow

COMMON: dict[str, Any] = {"processors_included": {"thumbnail", "raster-basic"}, "max_workers": 2}


@pytest.fixture(autouse=True)
def _fail_instead_of_hanging() -> Iterator[None]:
    with deadline(300):
        yield


def _dataset(base: Path) -> Path:
    rng = np.random.default_rng(7)
    for folder in ("control", "treated"):
        for i in range(3):
            path = base / folder / f"img{i}.tif"
            path.parent.mkdir(parents=True, exist_ok=True)
            tifffile.imwrite(path, rng.integers(0, 4000, (48, 40), dtype=np.uint16))
    return base


@dataclass
class Clean:
    base: Path
    table: pl.DataFrame


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Clean:
    root = tmp_path_factory.mktemp("integrity")
    base = _dataset(root / "data")
    project = api.create_project("integrity", base, "tifffile", root / "clean" / "r.parquet")
    with deadline(300):
        api.process_files(project, **COMMON)
    table, _ = api.load(project.output_path, verify=True)
    assert table["thumbnail"].null_count() < table.height
    return Clean(base, sorted_table(table))


def _temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pixel_patrol_base.cli", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        check=False,
    )


@pytest.mark.parametrize("point", integrity.FAULT_POINTS)
def test_merge_killed_then_rerun_gives_the_clean_table_and_no_temp_file(
    clean: Clean, tmp_path: Path, point: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "out" / "r.parquet"
    project = api.create_project("integrity", clean.base, "tifffile", output)

    monkeypatch.setenv(integrity.FAULT_ENV, point)
    with pytest.raises(WorkflowError):
        api.process_files(project, **COMMON)
    assert not output.exists()
    assert len(_temp_files(output.parent)) == 1  # the killed merge's, left behind

    monkeypatch.delenv(integrity.FAULT_ENV)
    api.process_files(project, **COMMON)
    assert project.last_run is not None
    assert project.last_run["shards_processed"] == 0  # the chunks were kept
    assert _temp_files(output.parent) == []
    table, _ = api.load(output, verify=True)
    assert sorted_table(table).equals(clean.table)


def _flip_in_thumbnail_page(report: Path) -> None:
    """Invert one byte inside a data page of the thumbnail column; keep size and mtime."""
    metadata = pq.read_metadata(report)
    names = [metadata.row_group(0).column(j).path_in_schema for j in range(metadata.num_columns)]
    column = metadata.row_group(0).column(names.index("thumbnail"))
    start = column.data_page_offset
    end = min(start, column.dictionary_page_offset or start) + column.total_compressed_size
    position = (start + end) // 2
    assert start < position < end
    stat = report.stat()
    with report.open("r+b") as handle:
        handle.seek(position)
        byte = handle.read(1)
        handle.seek(position)
        handle.write(bytes([byte[0] ^ 0xFF]))
    os.utime(report, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = report.stat()
    assert (after.st_size, after.st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)


def test_flipped_bytes_are_reported_and_the_rerun_rebuilds_the_report(
    clean: Clean, tmp_path: Path
) -> None:
    output = tmp_path / "r.parquet"
    project = api.create_project("integrity", clean.base, "tifffile", output)
    api.process_files(project, **COMMON)
    intact = cli("verify", output)
    assert intact.returncode == 0, intact.stderr
    assert "intact" in intact.stdout

    _flip_in_thumbnail_page(output)

    result = cli("verify", output)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "corrupt" in result.stderr
    assert "'thumbnail'" in result.stderr
    assert "Traceback" not in result.stderr
    with pytest.raises(ReportCorruptError, match="thumbnail"):
        api.load(output, verify=True)
    not_a_report = cli("verify", clean.base / "control" / "img0.tif")
    assert not_a_report.returncode == 2

    api.process_files(project, **COMMON)  # nothing changed but the report's bytes
    assert project.last_run is not None
    assert project.last_run["shards_processed"] == 0
    assert cli("verify", output).returncode == 0
    table, _ = api.load(output, verify=True)
    assert sorted_table(table).equals(clean.table)


def test_duplicate_key_in_a_chunk_with_thumbnails_is_shown_by_the_cli(
    clean: Clean, tmp_path: Path
) -> None:
    output = tmp_path / "r.parquet"
    project = api.create_project("integrity", clean.base, "tifffile", output)
    api.process_files(project, **COMMON)
    chunk = sorted((project.workdir / "chunks").glob("*.parquet"))[0]
    table = pq.read_table(chunk)
    assert table.column("thumbnail").null_count < table.num_rows
    rows = table.slice(0, 1)
    path = rows.column("path")[0].as_py()
    key_values = dict(pq.read_metadata(chunk).metadata or {})  # the chunk info, kept
    key_values.pop(b"ARROW:schema", None)
    pq.write_table(pa.concat_tables([table, rows]).replace_schema_metadata(key_values), chunk)

    result = cli(
        "process",
        clean.base,
        "-o",
        output,
        "--name",
        "integrity",
        "--loader",
        "tifffile",
        "--processors-include",
        ",".join(sorted(COMMON["processors_included"])),
        "--max-workers",
        "2",
        "--description",
        "forces a merge",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "PanicException" not in result.stderr
    assert "duplicate row key" in result.stderr
    assert f"path={path!r}" in result.stderr
    assert chunk.name in result.stderr
    assert cli("verify", output).returncode == 0  # the previous report is untouched
