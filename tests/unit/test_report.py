"""Report footer metadata and loading reports back, on real Parquet files."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pixel_patrol_base.errors import NotAReportError
from pixel_patrol_base.pipeline.merge.combine import merge_chunks
from pixel_patrol_base.pipeline.shard.chunks import ChunkInfo, write_chunk
from pixel_patrol_base.table import catalog
from pixel_patrol_base.table.footer import (
    FOOTER_KEY,
    FORMAT_VERSION,
    ProjectMetadata,
    encode_footer,
    load_report,
    read_metadata,
)

METADATA = ProjectMetadata(
    project_name="Plate 7",
    description="Screen of plate 7, all wells.",
    flavor="raster",
    base_dir="/data/plate7",
    paths=["control", "treated"],
    loader="bioio",
    processors={"raster-basic": "1.0", "thumbnail": "2.1"},
    settings={"slice_size": {"C": 1, "Z": 4}, "mb_per_task": 512},
    package_version="0.1.0",
    library_versions={"polars": "2.1.0", "pyarrow": "26.0.1"},
    config_fingerprint="sha256:abc123",
    counts={"shards": 1},
    timings={"plan": 0.25, "process": 12.5, "merge": 1.0},
    created_at="2024-05-06T07:08:09+00:00",
    format_version=FORMAT_VERSION,
)


def write_report(folder: Path, metadata: ProjectMetadata = METADATA) -> Path:
    """A real report: two file rows written as a chunk, then merged."""
    names = [n for n in catalog.core_column_names() if n != "imported_path_short"]
    rows = pl.DataFrame(
        {n: [None, None] for n in names}
        | {
            "path": ["control/a.tif", "treated/b.tif"],
            "obs_level": [0, 0],
            "name": ["a.tif", "b.tif"],
            "parent": ["control", "treated"],
            "depth": [1, 1],
            "file_extension": ["tif", "tif"],
            "size_bytes": [10, 20],
            "modification_date": [datetime(2024, 1, 1, tzinfo=UTC)] * 2,
            "imported_path": ["control", "treated"],
            "type": ["file", "file"],
        }
    )
    chunk = folder / "chunk.parquet"
    write_chunk(
        rows, chunk, ChunkInfo("s", 2, 0, 0, 0.1, "2024-01-01T00:00:00+00:00"), rows_per_part=10
    )
    output = folder / "report.parquet"
    merge_chunks(
        [chunk],
        output,
        labels={"control": "control", "treated": "treated"},
        metadata=metadata.to_footer(),
        row_group_size=10,
    )
    return output


def test_load_report_round_trips_every_field(tmp_path: Path) -> None:
    report = write_report(tmp_path)

    table, metadata = load_report(str(report))

    assert table["path"].to_list() == ["control/a.tif", "treated/b.tif"]
    counts = {"shards": 1, "files": 2, "images": 0, "failed": 0, "rows": 2}
    expected = dataclasses.replace(METADATA, counts=counts)
    for field in dataclasses.fields(ProjectMetadata):
        if field.name != "column_descriptions":
            assert getattr(metadata, field.name) == getattr(expected, field.name), field.name
    assert set(metadata.column_descriptions) == set(table.columns)
    for name, description in metadata.column_descriptions.items():
        assert description == catalog.lookup(name).description  # type: ignore[union-attr]
    assert read_metadata(report) == metadata


def test_footer_omits_descriptions_and_base_dir_may_be_omitted(tmp_path: Path) -> None:
    anonymous = dataclasses.replace(METADATA, base_dir=None)
    assert "column_descriptions" not in anonymous.to_footer()

    metadata = read_metadata(write_report(tmp_path, anonymous))

    assert metadata.base_dir is None
    assert metadata.project_name == "Plate 7"


def test_footer_encodes_paths_as_text() -> None:
    footer = json.loads(encode_footer({"base_dir": Path("/data/x"), "n": 1}))

    assert footer == {"base_dir": "/data/x", "n": 1}
    with pytest.raises(TypeError, match="not JSON"):
        encode_footer({"bad": object()})


def plain_parquet(path: Path, columns: list[str], footer: dict[str, object] | None) -> Path:
    table = pa.table({c: pa.array(["x"]) for c in columns})
    if footer is not None:
        table = table.replace_schema_metadata({FOOTER_KEY: json.dumps(footer)})
    pq.write_table(table, path)
    return path


def test_not_a_report_errors_name_the_file_and_the_cause(tmp_path: Path) -> None:
    text = tmp_path / "notes.parquet"
    text.write_text("just text, not parquet")
    core = catalog.core_column_names()
    cases = {
        tmp_path / "missing.parquet": "does not exist",
        tmp_path: "is a folder",
        text: "is not a Parquet file",
        plain_parquet(tmp_path / "plain.parquet", core, None): "without PixelPatrol metadata",
        plain_parquet(tmp_path / "partial.parquet", ["path", "name"], {"project_name": "p"}): (
            "lacks the core columns child_id, obs_level"
        ),
        plain_parquet(tmp_path / "junk.parquet", core, {"paths": "x"}): "unreadable PixelPatrol",
        plain_parquet(
            tmp_path / "future.parquet", core, {"project_name": "p", "format_version": 99}
        ): "upgrade pixel-patrol",
    }
    for src, cause in cases.items():
        with pytest.raises(NotAReportError) as caught:
            load_report(src)
        assert f"'{src}'" in str(caught.value)
        assert cause in str(caught.value)


def test_missing_core_columns_are_all_named(tmp_path: Path) -> None:
    core = catalog.core_column_names()
    src = plain_parquet(tmp_path / "r.parquet", core[:-2], {"project_name": "p"})

    with pytest.raises(NotAReportError, match=", ".join(core[-2:])):
        read_metadata(src)
