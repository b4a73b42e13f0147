"""The pandera model generated from the column catalog, on real polars frames."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from pixel_patrol_base.errors import ReportValidationError
from pixel_patrol_base.table import catalog, validation

WHEN = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def report_rows(paths: list[str | None], **overrides: list[object]) -> pl.DataFrame:
    """A valid report table of level-0 file rows, typed as the catalog says."""
    n = len(paths)
    values: dict[str, list[object]] = {name: [None] * n for name in catalog.core_column_names()}
    values.update(
        path=list(paths),
        obs_level=[0] * n,
        name=[(p or "x").rsplit("/", 1)[-1] for p in paths],
        parent=["." if "/" not in (p or "") else (p or "").rsplit("/", 1)[0] for p in paths],
        depth=[(p or "").count("/") for p in paths],
        file_extension=["tif"] * n,
        size_bytes=[100 + i for i in range(n)],
        modification_date=[WHEN] * n,
        imported_path=["."] * n,
        imported_path_short=["data"] * n,
        type=["file"] * n,
    )
    values.update(overrides)
    schema = {c: validation.polars_dtype(catalog.lookup(c).type) for c in values}  # type: ignore[union-attr]
    return pl.DataFrame(values, schema=schema)


def test_schema_dtypes_nullability_and_key_come_from_the_catalog() -> None:
    columns = [
        "path",
        "child_id",
        "modification_date",
        "processor_errors",
        "shape",
        "dim_c",
        "size_bytes",
        "extra_metadata",
    ]
    schema = validation.report_schema(columns)

    assert schema.columns["path"].dtype.type == pl.String
    assert schema.columns["modification_date"].dtype.type == pl.Datetime("us", "UTC")
    assert schema.columns["processor_errors"].dtype.type == pl.List(pl.String)
    assert schema.columns["shape"].dtype.type == pl.List(pl.Int64)
    assert schema.columns["dim_c"].dtype.type == pl.Int64
    assert schema.columns["path"].nullable is False
    assert schema.columns["child_id"].nullable is True
    assert "extra_metadata" not in schema.columns
    assert schema.strict is False
    assert schema.unique == ["path", "child_id", "dim_c"]


def test_valid_table_passes_unchanged_with_undeclared_columns() -> None:
    df = report_rows(["a.tif", "b/c.tif"]).with_columns(vendor_key=pl.lit("x"))

    assert validation.validate(df) is df


def test_every_failed_check_is_listed_with_its_rows() -> None:
    df = report_rows(
        ["a.tif", "a.tif", None, "", "d.tif"],
        size_bytes=[1, 2, -5, 4, 5],
        depth=[0, 0, 0, 0, -1],
    )

    with pytest.raises(ReportValidationError) as caught:
        validation.validate(df)

    message = str(caught.value)
    assert "duplicate row key" in message
    assert "row 0: path='a.tif', obs_level=0" in message
    assert "row 1: path='a.tif', obs_level=0" in message
    assert "column 'path': not_nullable" in message
    assert "row 2: path=None, obs_level=0" in message
    assert "column 'size_bytes': greater_than_or_equal_to(0)" in message
    assert "size_bytes=-5" in message
    assert "path is empty" in message
    assert "row 3: path=''" in message
    assert "column 'depth'" in message
    assert "path='d.tif', obs_level=0 | depth=-1" in message
    cases = caught.value.failure_cases  # type: ignore[attr-defined]
    assert isinstance(cases, pl.DataFrame)
    assert sorted(cases["index"].to_list()) == [0, 1, 2, 2, 3, 4]


def test_message_is_bounded_and_counts_the_rest() -> None:
    n = 100
    df = report_rows([f"f{i:03d}.tif" for i in range(n)], size_bytes=[-1] * n)

    with pytest.raises(ReportValidationError) as caught:
        validation.validate(df)

    message = str(caught.value)
    assert message.count("size_bytes=-1") == validation.MAX_SHOWN
    assert f"and {n - validation.MAX_SHOWN} more case(s)" in message
    assert caught.value.failure_cases.height == n  # type: ignore[attr-defined]


def test_missing_core_column_and_wrong_dtype_are_reported() -> None:
    df = report_rows(["a.tif"]).drop("name").with_columns(pl.col("size_bytes").cast(pl.String))

    with pytest.raises(ReportValidationError) as caught:
        validation.validate(df)

    message = str(caught.value)
    assert "missing column 'name'" in message
    assert "column 'size_bytes': dtype('Int64')" in message
    assert "found String" in message


def test_slice_rows_share_a_path_but_not_a_key() -> None:
    df = pl.concat(
        [
            report_rows(["a.tif"]),
            report_rows(["a.tif", "a.tif"], obs_level=[1, 1], dim_c=[0, 1]),
        ]
    )

    assert validation.validate(df).height == 3
    with pytest.raises(ReportValidationError, match="dim_c=1"):
        validation.validate(pl.concat([df, df.tail(1)]))
