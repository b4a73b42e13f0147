"""Fixtures for the widget tests: the real pipeline report in DuckDB and in polars."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pixel_patrol_base.viewing import widgets as pw


@pytest.fixture(scope="session")
def report_con(pipeline_report: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with the pipeline report as table ``pp_data``, prepared."""
    con = duckdb.connect()
    con.execute("CREATE TABLE pp_data AS SELECT * FROM read_parquet(?)", [str(pipeline_report)])
    pw.prepare_widgets(con, pw.load_widgets().values(), pw.table_columns(con))
    yield con
    con.close()


@pytest.fixture(scope="session")
def report_df(pipeline_report: Path) -> pl.DataFrame:
    """The same report read by polars."""
    return pl.read_parquet(pipeline_report)


@pytest.fixture(scope="session")
def columns(report_con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Column name -> DuckDB type of the report."""
    return pw.table_columns(report_con)


@pytest.fixture(scope="session")
def all_widgets() -> dict[str, pw.Widget]:
    """Every installed widget declaration."""
    return pw.load_widgets()
