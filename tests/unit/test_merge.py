"""Chunk files and their merge into the report, on real Parquet files."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pixel_patrol_base.errors import NotAReportError, ReportValidationError
from pixel_patrol_base.pipeline.merge.combine import MergeResult, merge_chunks
from pixel_patrol_base.pipeline.shard.chunks import (
    CHUNK_META_KEY,
    ChunkInfo,
    ChunkWriter,
    read_chunk_info,
    write_chunk,
)
from pixel_patrol_base.table import catalog
from pixel_patrol_base.table.footer import FOOTER_KEY

WHEN = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
LABELS = {"control": "ctl", "treated": "trt"}


def file_rows(
    paths: list[str], *, imported_path: str = "control", **overrides: list[object]
) -> pl.DataFrame:
    """Level-0 file rows with the core columns of a chunk (no imported_path_short)."""
    n = len(paths)
    values: dict[str, list[object]] = {
        n_: [None] * n for n_ in catalog.core_column_names() if n_ != "imported_path_short"
    }
    values.update(
        path=list(paths),
        obs_level=[0] * n,
        name=[p.rsplit("/", 1)[-1] for p in paths],
        parent=[p.rsplit("/", 1)[0] for p in paths],
        depth=[p.count("/") for p in paths],
        file_extension=["tif"] * n,
        size_bytes=[1000 + i for i in range(n)],
        modification_date=[WHEN] * n,
        imported_path=[imported_path] * n,
        type=["file"] * n,
    )
    values.update(overrides)
    return pl.DataFrame(values, strict=False)


def info(shard_id: str, n_files: int = 1) -> ChunkInfo:
    return ChunkInfo(shard_id, n_files, n_files, 0, 1.5, "2024-05-06T07:08:09+00:00")


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_chunk_round_trip_types_row_groups_and_info(tmp_path: Path) -> None:
    rows = file_rows([f"control/f{i}.tif" for i in range(7)]).with_columns(vendor=pl.lit(3))
    path = tmp_path / "s1.parquet"

    write_chunk(rows, path, info("s1", 7), rows_per_part=3)

    assert read_chunk_info(path) == info("s1", 7)
    parquet = pq.ParquetFile(path)
    assert parquet.num_row_groups == 3
    schema = parquet.schema_arrow
    assert schema.field("size_bytes").type == pa.int64()
    assert schema.field("obs_level").type == pa.int16()
    assert schema.field("child_id").type == pa.large_string()
    assert schema.field("modification_date").type == pa.timestamp("us", tz="UTC")
    assert schema.field("processor_errors").type == pa.large_list(pa.large_string())
    assert schema.field("vendor").type == pa.int32()  # undeclared: keeps its type
    assert pl.read_parquet(path)["path"].to_list() == rows["path"].to_list()
    assert temp_files(tmp_path) == []


def test_chunk_writer_widens_for_columns_that_appear_later(tmp_path: Path) -> None:
    path = tmp_path / "s1.parquet"
    with ChunkWriter(path, rows_per_part=2) as writer:
        writer.write(file_rows(["control/a.tif", "control/b.tif", "control/c.tif"]))
        writer.write(file_rows(["control/d.tif"]).with_columns(exposure=pl.lit(0.5)))
        writer.write(file_rows(["control/e.tif"]).drop("load_error"))
        writer.close(info("s1", 5))

    table = pl.read_parquet(path)
    assert table["path"].to_list() == [f"control/{c}.tif" for c in "abcde"]
    assert table["exposure"].to_list() == [None, None, None, 0.5, None]
    assert table["load_error"].null_count() == 5
    assert pq.ParquetFile(path).num_row_groups == 4  # 2 + 1, then 1, then 1
    assert temp_files(tmp_path) == []


def test_chunk_writer_leaves_nothing_on_error(tmp_path: Path) -> None:
    path = tmp_path / "s1.parquet"
    with (
        pytest.raises(RuntimeError, match="shard failed"),
        ChunkWriter(path, rows_per_part=2) as writer,
    ):
        writer.write(file_rows(["control/a.tif"]))
        raise RuntimeError("shard failed")

    assert list(tmp_path.iterdir()) == []


def test_read_chunk_info_rejects_a_plain_parquet(tmp_path: Path) -> None:
    path = tmp_path / "plain.parquet"
    pl.DataFrame({"a": [1]}).write_parquet(path)

    with pytest.raises(NotAReportError, match="not a PixelPatrol chunk"):
        read_chunk_info(path)


def three_chunks(folder: Path) -> list[Path]:
    """Shards in path order: 2 images + slices, 1 failed file + 1 non-image, 2 images."""
    first = pl.concat(
        [
            file_rows(["control/a.tif", "control/b.tif"], dtype=["uint8", "uint16"]),
            file_rows(
                ["control/b.tif", "control/b.tif"],
                obs_level=[1, 1],
                dim_c=[0, 1],
                dtype=[None, None],
            ),
        ],
        how="diagonal_relaxed",
    )
    second = file_rows(
        ["control/c.tif", "control/notes.txt"],
        load_error=["cannot decode", None],
        file_extension=["tif", "txt"],
    )
    third = file_rows(
        ["treated/d.tif", "treated/e.tif"],
        imported_path="treated",
        dtype=["uint8", "float32"],
        vendor_gain=[2.0, None],
    )
    chunks = []
    for i, rows in enumerate([first, second, third]):
        chunk = folder / f"shard{i}.parquet"
        write_chunk(rows, chunk, info(f"shard{i}"), rows_per_part=2)
        chunks.append(chunk)
    return chunks


def test_merge_of_three_chunks(tmp_path: Path) -> None:
    (tmp_path / "chunks").mkdir()
    chunks = three_chunks(tmp_path / "chunks")
    output = tmp_path / "out" / "report.parquet"
    metadata = {"project_name": "demo", "counts": {"shards": 3, "rows": -1}}

    result = merge_chunks(chunks, output, labels=LABELS, metadata=metadata, row_group_size=3)

    assert result == MergeResult(rows=8, files=6, images=4, failed=1, output=output)
    table = pl.read_parquet(output)
    assert table["path"].to_list() == [
        "control/a.tif", "control/b.tif", "control/b.tif", "control/b.tif",
        "control/c.tif", "control/notes.txt", "treated/d.tif", "treated/e.tif",
    ]  # fmt: skip
    assert table["imported_path_short"].to_list() == ["ctl"] * 6 + ["trt"] * 2
    assert table["vendor_gain"].to_list() == [None] * 6 + [2.0, None]
    assert table["dtype"].to_list()[:2] == ["uint8", "uint16"]

    parquet = pq.ParquetFile(output)
    assert parquet.num_row_groups == math.ceil(8 / 3)
    assert parquet.metadata.row_group(0).column(0).compression == "ZSTD"
    schema = parquet.schema_arrow
    declared = [n for n in schema.names if catalog.lookup(n) is not None]
    catalog_order = [n for c in catalog.all_columns() for n in c.expand()]
    assert declared == [n for n in catalog_order if n in declared]
    assert schema.names[len(declared) :] == ["vendor_gain"]
    for name in declared:
        expected = catalog.lookup(name).description  # type: ignore[union-attr]
        assert schema.field(name).metadata[b"description"].decode() == expected
    assert schema.field("path").nullable is False

    footer = json.loads(parquet.metadata.metadata[FOOTER_KEY])
    assert footer["project_name"] == "demo"
    assert footer["counts"] == {"shards": 3, "rows": 8, "files": 6, "images": 4, "failed": 1}
    assert temp_files(output.parent) == []


def test_failed_merge_keeps_the_existing_output_and_the_chunks(tmp_path: Path) -> None:
    chunks = three_chunks(tmp_path)
    output = tmp_path / "report.parquet"
    output.write_bytes(b"previous report")
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")

    with pytest.raises(NotAReportError, match=r"bad\.parquet"):
        merge_chunks([*chunks, bad], output, labels=LABELS, metadata={}, row_group_size=3)
    with pytest.raises(ReportValidationError, match="imported_path_short"):
        merge_chunks(chunks, output, labels={}, metadata={}, row_group_size=3)

    assert output.read_bytes() == b"previous report"
    assert all(c.exists() for c in chunks)
    assert temp_files(tmp_path) == []


def test_corrupted_chunk_lists_every_failure_and_keeps_chunks(tmp_path: Path) -> None:
    chunks = three_chunks(tmp_path)
    corrupted = file_rows(
        ["control/b2.tif", "control/b2.tif", "control/null.tif", "control/neg.tif"],
        size_bytes=[1, 1, 1, -7],
    ).with_columns(path=pl.when(pl.col("name") != "null.tif").then(pl.col("path")))
    bad = tmp_path / "shard1.parquet"
    corrupted.write_parquet(bad)  # by hand, no chunk writer
    output = tmp_path / "report.parquet"

    with pytest.raises(ReportValidationError) as caught:
        merge_chunks(chunks, output, labels=LABELS, metadata={}, row_group_size=3)

    message = str(caught.value)
    assert "duplicate row key" in message
    assert "[shard1.parquet] row 0: path='control/b2.tif', obs_level=0" in message
    assert "[shard1.parquet] row 1: path='control/b2.tif', obs_level=0" in message
    assert "column 'path': not_nullable" in message
    assert "[shard1.parquet] row 2: path=None" in message
    assert "column 'size_bytes': greater_than_or_equal_to(0)" in message
    assert "[shard1.parquet] row 3: path='control/neg.tif', obs_level=0 | size_bytes=-7" in message
    assert "shard0" not in message and "shard2" not in message
    cases = caught.value.failure_cases  # type: ignore[attr-defined]
    assert set(cases["source"]) == {"shard1.parquet"}
    assert not output.exists()
    assert all(c.exists() for c in chunks)
    assert temp_files(tmp_path) == []


def test_key_repeated_across_chunks_is_a_duplicate(tmp_path: Path) -> None:
    first = tmp_path / "s0.parquet"
    second = tmp_path / "s1.parquet"
    write_chunk(file_rows(["control/a.tif", "control/b.tif"]), first, info("s0"), rows_per_part=5)
    write_chunk(file_rows(["control/b.tif"]), second, info("s1"), rows_per_part=5)

    with pytest.raises(ReportValidationError) as caught:
        merge_chunks(
            [first, second], tmp_path / "r.parquet", labels=LABELS, metadata={}, row_group_size=5
        )

    message = str(caught.value)
    assert "[s0.parquet] row 1: path='control/b.tif'" in message
    assert "[s1.parquet] row 0: path='control/b.tif'" in message


def test_chunk_info_is_in_the_key_value_metadata(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    write_chunk(file_rows(["control/a.tif"]), path, info("s"), rows_per_part=5)

    raw = pq.read_metadata(path).metadata[CHUNK_META_KEY]
    assert json.loads(raw)["shard_id"] == "s"


def test_chunk_writer_takes_row_dicts_with_differing_keys(tmp_path: Path) -> None:
    rows = file_rows(["control/a.tif", "control/b.tif"]).to_dicts()
    rows[1] |= {"exposure_ms": 12, "vendor": "x"}
    rows.append(rows[0] | {"path": "control/c.tif", "vendor": 3})
    path = tmp_path / "s.parquet"
    with ChunkWriter(path, rows_per_part=10) as writer:
        writer.write(rows)
        writer.close(info("s", 3))

    table = pq.read_table(path)
    assert table.schema.field("size_bytes").type == pa.int64()
    assert table.schema.field("modification_date").type == pa.timestamp("us", tz="UTC")
    assert table.column("exposure_ms").to_pylist() == [None, 12, None]
    assert table.column("vendor").to_pylist() == [None, "x", "3"]
