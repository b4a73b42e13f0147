"""Data access of the viewer: one cached DuckDB connection, cached query results.

The report is exposed as the view ``pp_data`` over ``read_parquet``, and its footer's
QC results as the tables ``pp_rules`` and ``pp_qc_results``
(:mod:`pixel_patrol_base.viewing.widgets.qc_tables`); the Parquet file is never written.
Each query runs on its own cursor of the shared connection (Streamlit runs sessions in
threads). Results are cached by SQL text + parameters, so two widgets or two sessions
asking the same thing share one result.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import streamlit as st

from pixel_patrol_base.table.footer import ProjectMetadata, read_metadata
from pixel_patrol_base.viewing import widgets as pw

TABLE = "pp_data"
_TEMP_VIEW = re.compile(r"^\s*CREATE\s+(OR\s+REPLACE\s+)?TEMP(ORARY)?\s+VIEW\s+", re.IGNORECASE)


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@st.cache_resource(show_spinner=False)
def connection(report: str) -> duckdb.DuckDBPyConnection:
    """The shared connection of ``report``, with the view ``pp_data``."""
    con = duckdb.connect(":memory:")
    # Days and hours of modification_date in UTC, as the static viewer shows them
    # (duckdb-wasm has no time-zone database offline), whatever this machine's zone.
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE VIEW {TABLE} AS SELECT * FROM read_parquet({_sql_literal(report)})")
    pw.add_qc_tables(con, metadata(report).qc)
    return con


_PREPARE_LOCK = threading.Lock()


@st.cache_resource(show_spinner=False)
def prepared(report: str, widget_id: str, _widget: pw.Widget) -> bool:
    """Run one widget's ``prepare`` statements once per report, when it is first shown.

    Lazily, so the first charts do not wait for every widget's pre-aggregation. Keyed by
    ``widget_id``; ``_widget`` is its declaration (not hashed). Callers skip widgets
    without ``prepare``.
    """
    with _PREPARE_LOCK:
        con = connection(report)
        pw.prepare_widgets(con, [_widget], pw.table_columns(con, TABLE))
        _share_temporaries(con)
    return True


def _share_temporaries(con: duckdb.DuckDBPyConnection) -> None:
    """Make TEMP tables and views of ``con`` visible to its cursors.

    DuckDB scopes temporary objects to one connection, and each query here runs on its
    own cursor, so what ``prepare`` created as TEMP is copied into the main schema.
    """
    tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary ORDER BY table_name"
    ).fetchall()
    for (name,) in tables:
        quoted = '"' + str(name).replace('"', '""') + '"'
        con.execute(f"CREATE OR REPLACE TABLE main.{quoted} AS SELECT * FROM temp.{quoted}")
        con.execute(f"DROP TABLE temp.{quoted}")
    views = con.execute(
        "SELECT view_name, sql FROM duckdb_views() WHERE temporary AND NOT internal"
    ).fetchall()
    for name, definition in views:
        quoted = '"' + str(name).replace('"', '""') + '"'
        con.execute(f"DROP VIEW temp.{quoted}")
        con.execute(_TEMP_VIEW.sub("CREATE VIEW ", str(definition), count=1))


@st.cache_resource(show_spinner=False)
def widgets() -> dict[str, pw.Widget]:
    """Every widget declaration (built-in and installed), read once per viewer process."""
    return pw.load_widgets()


@st.cache_data(show_spinner=False)
def default_group(report: str) -> str | None:
    """The report's default group column (read once: it counts distinct values)."""
    return pw.default_group_col(columns(report), connection(report).cursor())


@st.cache_data(show_spinner=False)
def metadata(report: str) -> ProjectMetadata:
    """The report's footer metadata."""
    return read_metadata(report)  # type: ignore[arg-type]


@st.cache_data(show_spinner=False)
def columns(report: str) -> dict[str, str]:
    """Column name -> DuckDB type of ``pp_data``."""
    return pw.table_columns(connection(report).cursor(), TABLE)


@st.cache_data(show_spinner=False, max_entries=2000)
def query(report: str, sql: str, params: tuple[Any, ...]) -> pa.Table:
    """Result of ``sql`` with positional ``params`` on a fresh cursor (cached)."""
    cursor = connection(report).cursor()
    return cursor.sql(sql, params=list(params)).to_arrow_table()


def filtered_rows(report: str, state: pw.ViewState) -> pa.Table:
    """The rows of ``pp_data`` that pass the filters and dimension selection of ``state``."""
    sql, params = pw.compile_sql(
        f"SELECT * FROM {TABLE} WHERE {{{{where}}}}", state, columns(report), {}
    )
    return query(report, sql, tuple(params))


def export_bytes(table: pa.Table, fmt: str) -> bytes:
    """``table`` as Parquet or CSV bytes (list and binary columns as text in CSV)."""
    buffer = io.BytesIO()
    if fmt == "parquet":
        pq.write_table(table, buffer)
        return buffer.getvalue()
    flat = table
    for i, field in enumerate(table.schema):
        if (
            pa.types.is_nested(field.type)
            or pa.types.is_binary(field.type)
            or (pa.types.is_large_binary(field.type))
        ):
            flat = flat.set_column(i, field.name, _as_text(table.column(i)))
    pacsv.write_csv(flat, buffer)
    return buffer.getvalue()


def _as_text(column: pa.ChunkedArray) -> pa.Array:
    values: Sequence[Any] = column.to_pylist()
    out = [None if v is None else (v.hex() if isinstance(v, bytes) else str(v)) for v in values]
    return pa.array(out, type=pa.string())
