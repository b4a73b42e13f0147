"""What the merge checks of every value, from the catalog, and the report's own checksums.

Real chunk files, real merges (:func:`merge_chunks`), real Parquet footers: each
declared bound is violated in turn, failures must name the chunk, the row key and the
value, a duplicate key among thumbnails is a validation error (not a crash), and a
sealed report verifies while a changed byte, footer or missing checksums do not.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from test_merge import LABELS, file_rows, info, temp_files

from pixel_patrol_base import api
from pixel_patrol_base.errors import NotAReportError, ReportCorruptError, ReportValidationError
from pixel_patrol_base.pipeline.merge.combine import merge_chunks, stale_temp_files
from pixel_patrol_base.pipeline.shard.chunks import write_chunk
from pixel_patrol_base.table import catalog, integrity, validation
from pixel_patrol_base.table.columns import Bounds, Column
from pixel_patrol_base.table.footer import FOOTER_KEY, encode_footer

META = {"project_name": "checks"}


def merge(tmp_path: Path, *frames: pl.DataFrame) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    chunks = []
    for i, frame in enumerate(frames):
        chunk = tmp_path / f"s{i}.parquet"
        write_chunk(frame, chunk, info(f"s{i}", frame.height), rows_per_part=4)
        chunks.append(chunk)
    output = tmp_path / "out" / "r.parquet"
    merge_chunks(chunks, output, labels=LABELS, metadata=META, row_group_size=3)
    return output


def failure(tmp_path: Path, *frames: pl.DataFrame) -> str:
    with pytest.raises(ReportValidationError) as caught:
        merge(tmp_path, *frames)
    assert not (tmp_path / "out" / "r.parquet").exists()
    return str(caught.value)


def _violating(column: Column) -> object:
    """A value outside ``column``'s bounds, of its type."""
    bounds = column.bounds
    assert bounds is not None
    value = bounds.low - 1 if bounds.low is not None else bounds.high + 1  # type: ignore[operator]
    if column.type.startswith("list<"):
        return [value]
    return float(value) if "float" in column.type else int(value)


BOUNDED = [c for c in catalog.all_columns() if c.bounds is not None]


def test_the_catalog_states_ranges_of_fractions_counts_and_orders() -> None:
    declared = {c.name: c for c in catalog.all_columns()}
    assert declared["nan_fraction"].bounds == Bounds(0, 1)
    assert declared["size_bytes"].bounds == Bounds(0)
    assert declared["histogram_counts"].bounds == Bounds(0)
    assert declared["min_intensity"].not_above == "mean_intensity"
    assert declared["mean_intensity"].not_above == "max_intensity"
    assert len(BOUNDED) >= 20


@pytest.mark.parametrize("column", BOUNDED, ids=lambda c: c.name)
def test_every_declared_bound_is_checked_with_chunk_row_and_value(
    tmp_path: Path, column: Column
) -> None:
    name = column.expand()[-1]  # dim_s, size_s... for a pattern
    value = _violating(column)
    rows = file_rows(["control/a.tif", "control/b.tif"])
    rows = rows.with_columns(
        pl.Series(name, [None, value], dtype=validation.polars_dtype(column.type))
    )

    message = failure(tmp_path, rows)

    assert f"column {name!r}: " in message
    assert "[s0.parquet] row 1: path='control/b.tif'" in message
    assert f"{name}={value!r}" in message


def test_a_share_of_seven_and_a_half_names_chunk_row_and_value(tmp_path: Path) -> None:
    good = file_rows(["control/a.tif"], nan_fraction=[0.25])
    bad = file_rows(["treated/b.tif", "treated/c.tif"], nan_fraction=[0.0, 7.5])

    message = failure(tmp_path, good, bad)

    assert "column 'nan_fraction': in [0, 1]: 1 case(s)" in message
    assert "[s1.parquet] row 1: path='treated/c.tif', obs_level=0 | nan_fraction=7.5" in message


def test_nan_in_a_bounded_column_fails_but_rounding_and_null_pass(tmp_path: Path) -> None:
    ok = file_rows(
        ["control/a.tif", "control/b.tif"],
        nan_fraction=[math.nextafter(1.0, 2.0), None],
        min_intensity=[0.1, 2.0],
        mean_intensity=[math.nextafter(0.1, 1.0), None],  # a weighted mean's rounding
        max_intensity=[0.1, 3.0],
    )
    merge(tmp_path, ok)

    bad = file_rows(["control/a.tif"], nan_fraction=[math.nan])
    message = failure(tmp_path / "nan", bad)
    assert "nan_fraction=nan" in message


def test_min_above_mean_names_both_values(tmp_path: Path) -> None:
    rows = file_rows(
        ["control/a.tif", "control/b.tif"],
        min_intensity=[1.0, 5.0],
        mean_intensity=[2.0, 4.0],
        max_intensity=[3.0, 6.0],
    )

    message = failure(tmp_path, rows)

    assert "column 'min_intensity': not above mean_intensity: 1 case(s)" in message
    assert "row 1: path='control/b.tif', obs_level=0 | min_intensity=5.0 > mean_intensity=4.0" in (
        message
    )
    assert "row 0" not in message


def test_a_negative_histogram_count_is_found_in_the_list(tmp_path: Path) -> None:
    rows = file_rows(["control/a.tif", "control/b.tif"], histogram_counts=[[1, 2], [3, -1]])

    message = failure(tmp_path, rows)

    assert "column 'histogram_counts': every element >= 0" in message
    assert "path='control/b.tif', obs_level=0 | histogram_counts=[3, -1]" in message


def test_duplicate_key_among_thumbnails_is_a_validation_error(tmp_path: Path) -> None:
    rows = file_rows(["control/a.tif", "control/a.tif", "control/b.tif"]).with_columns(
        thumbnail=pl.Series([os.urandom(64) for _ in range(3)], dtype=pl.Binary)
    )

    message = failure(tmp_path, rows)

    assert "duplicate row key" in message
    assert "[s0.parquet] row 0: path='control/a.tif', obs_level=0" in message
    assert "[s0.parquet] row 1: path='control/a.tif', obs_level=0" in message
    assert "control/b.tif" not in message
    assert "thumbnail" not in message


def test_a_value_of_the_wrong_type_names_chunk_row_and_value(tmp_path: Path) -> None:
    rows = file_rows(["control/a.tif", "control/b.tif"]).with_columns(
        size_bytes=pl.Series(["12", "big"])
    )
    chunk = tmp_path / "s0.parquet"
    pq.write_table(rows.to_arrow(), chunk)  # as a broken plugin could

    with pytest.raises(ReportValidationError) as caught:
        merge_chunks(
            [chunk], tmp_path / "r.parquet", labels=LABELS, metadata=META, row_group_size=3
        )

    message = str(caught.value)
    assert "column 'size_bytes': cast to int64: 1 case(s)" in message
    assert "[s0.parquet] row 1: path='control/b.tif', obs_level=0 | size_bytes='big'" in message


def test_values_on_the_edges_of_their_bounds_pass(tmp_path: Path) -> None:
    rows = file_rows(
        ["control/a.tif", "control/b.tif"],
        nan_fraction=[0.0, 1.0],
        focus_score=[-6.0, 0.0],
        finite_pixel_count=[0, 5],
        histogram_counts=[[], [0, 3]],
        size_bytes=[0, 1],
    )

    output = merge(tmp_path, rows)

    table, _ = api.load(output, verify=True)
    assert table["focus_score"].to_list() == [-6.0, 0.0]


# --- the report's own checksums ---------------------------------------------------------


def _valid(tmp_path: Path) -> Path:
    rows = file_rows([f"control/f{i}.tif" for i in range(7)]).with_columns(
        thumbnail=pl.Series([os.urandom(300) for _ in range(7)], dtype=pl.Binary)
    )
    return merge(tmp_path, rows)


def test_a_sealed_report_verifies_and_reads_back_unchanged(tmp_path: Path) -> None:
    output = _valid(tmp_path)

    digest = integrity.verify(output)

    assert digest == integrity.report_digest(output)
    metadata = pq.read_metadata(output)
    entry = json.loads(metadata.metadata[integrity.CHECKSUM_KEY])
    assert entry["algorithm"] == "crc32"
    assert len(entry["column_chunks"]) == metadata.num_row_groups * metadata.num_columns
    table, meta = api.load(output, verify=True)
    assert meta.project_name == "checks"
    assert table.height == 7
    assert table["path"].to_list() == [f"control/f{i}.tif" for i in range(7)]
    assert temp_files(output.parent) == []


def test_one_changed_byte_in_any_column_chunk_is_found(tmp_path: Path) -> None:
    output = _valid(tmp_path)
    original = output.read_bytes()
    metadata = pq.read_metadata(output)
    for group in range(metadata.num_row_groups):
        for j in range(metadata.num_columns):
            column = metadata.row_group(group).column(j)
            start = min(column.data_page_offset, column.dictionary_page_offset or 1 << 62)
            position = start + column.total_compressed_size - 1
            changed = bytearray(original)
            changed[position] ^= 0x01
            output.write_bytes(bytes(changed))
            with pytest.raises(ReportCorruptError, match=rf"row group {group} column"):
                integrity.verify(output)
    output.write_bytes(original)
    integrity.verify(output)


def test_a_report_without_checksums_or_not_a_report_is_refused(tmp_path: Path) -> None:
    output = _valid(tmp_path)
    table = pq.read_table(output)
    plain = tmp_path / "plain.parquet"
    footer = encode_footer({"project_name": "checks"})
    pq.write_table(table.replace_schema_metadata({FOOTER_KEY: footer}), plain)

    with pytest.raises(ReportCorruptError, match="carries no checksums"):
        integrity.verify(plain)
    with pytest.raises(ReportCorruptError):
        api.load(plain, verify=True)
    assert api.load(plain)[0].height == 7  # verify is off by default
    with pytest.raises(NotAReportError) as caught:
        integrity.verify(tmp_path / "s0.parquet")
    assert not isinstance(caught.value, ReportCorruptError)


def test_a_footer_describing_other_chunks_is_corrupt(tmp_path: Path) -> None:
    output = _valid(tmp_path)
    metadata = pq.read_metadata(output)
    key_values = {k: v for k, v in metadata.metadata.items() if k != b"ARROW:schema"}
    entry = json.loads(key_values[integrity.CHECKSUM_KEY])
    entry["column_chunks"][0][3] += 1  # the length of the first column chunk
    key_values[integrity.CHECKSUM_KEY] = json.dumps(entry).encode()
    tampered = tmp_path / "tampered.parquet"
    pq.write_table(pq.read_table(output).replace_schema_metadata(key_values), tampered)

    with pytest.raises(ReportCorruptError, match="does not describe the column chunks"):
        integrity.verify(tampered)


def test_stale_temp_files_of_a_killed_merge_are_removed_and_nothing_else(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    stale = [folder / ".r.parquet.0a1b2c3d.tmp", folder / ".r.parquet.k_9zq8x7.tmp"]
    kept = [
        folder / ".r.parquet.notes.txt",
        folder / ".other.parquet.0a1b2c3d.tmp",
        folder / "r.parquet.0a1b2c3d.tmp",
        folder / ".r.parquet.0a1b2c3d4.tmp",
    ]
    for path in [*stale, *kept]:
        path.write_bytes(b"x")
    link = folder / ".r.parquet.ffffffff.tmp"
    link.symlink_to(kept[0])

    assert sorted(stale_temp_files(folder / "r.parquet")) == sorted(stale)
    _valid(tmp_path)

    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in kept)
    assert link.is_symlink()
    assert (folder / "r.parquet").exists()
