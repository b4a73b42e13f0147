"""The placeholder compiler: the shared vectors file, and injection safety on real DuckDB."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from pixel_patrol_base import errors
from pixel_patrol_base.viewing import widgets as pw
from pixel_patrol_base.viewing.widgets.sql import filters_sql

VECTORS = json.loads((Path(__file__).parent / "sql_vectors.json").read_text(encoding="utf-8"))


def _state(raw: dict[str, Any]) -> pw.ViewState:
    return pw.ViewState(
        group_col=raw["group_col"],
        filters=tuple(pw.Filter(*f) for f in raw["filters"]),
        dims=raw["dims"],
    )


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_compile_sql_matches_vectors(case: dict[str, Any]) -> None:
    controls = {
        k: pw.Ident(v["ident"]) if isinstance(v, dict) else v for k, v in case["controls"].items()
    }
    expected = case["expected"]
    if "error" in expected:
        with pytest.raises(getattr(errors, expected["error"])):
            pw.compile_sql(case["template"], _state(case["state"]), VECTORS["columns"], controls)
        return
    sql, params = pw.compile_sql(
        case["template"], _state(case["state"]), VECTORS["columns"], controls
    )
    assert sql == expected["sql"]
    assert params == expected["params"]
    assert sql.count("?") == len(params)


def test_vectors_cover_every_filter_op() -> None:
    ops = {f[1] for c in VECTORS["cases"] for f in c["state"]["filters"]}
    assert ops == set(pw.FILTER_OPS)


INJECTION = "x'; DROP TABLE pp_data; --"


def test_injection_value_is_data(pipeline_report: Path, all_widgets: dict[str, pw.Widget]) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE pp_data AS SELECT * FROM read_parquet(?)", [str(pipeline_report)])
    # One image row gets the hostile text as its path: the filter must find exactly that row.
    # (A row read without error: the Images count leaves the failed file out.)
    target = con.execute(
        "SELECT path FROM pp_data GROUP BY path HAVING count(*) = 1"
        " AND bool_and(obs_level = 0 AND load_error IS NULL) ORDER BY path LIMIT 1"
    ).fetchall()[0][0]
    con.execute("UPDATE pp_data SET path = ? WHERE path = ?", [INJECTION, target])
    columns = pw.table_columns(con)
    table = all_widgets["image-table"]
    for op, expected in (("eq", 1), ("contains", 1), ("in", 1), ("not_contains", 21)):
        value: object = [INJECTION] if op == "in" else INJECTION
        state = pw.ViewState(filters=(pw.Filter("path", op, value),))
        result = pw.run_widget(con, table, state, columns)
        assert result.data["count"].column("images").to_pylist() == [expected], op
    # The table is still there, with every row.
    assert con.execute("SELECT count(*) FROM pp_data").fetchall()[0][0] == 61
    assert (
        con.execute("SELECT count(*) FROM pp_data WHERE path = ?", [INJECTION]).fetchall()[0][0]
        == 1
    )
    # A hostile column name is refused, not spliced into the SQL.
    with pytest.raises(errors.UnknownColumnError, match="is not in the table"):
        pw.run_widget(con, table, pw.ViewState(group_col='path" FROM pp_data; --'), columns)
    con.close()


def test_unknown_filter_op_is_typed() -> None:
    with pytest.raises(errors.UnknownFilterOpError, match="use one of eq, in"):
        pw.Filter("path", "like", "x")


def test_bad_filter_value_is_typed(
    report_con: duckdb.DuckDBPyConnection,
    columns: dict[str, str],
    all_widgets: dict[str, pw.Widget],
) -> None:
    state = pw.ViewState(filters=(pw.Filter("size_bytes", "gt", "lots"),))
    with pytest.raises(errors.WidgetStateError, match="fix the filter"):
        pw.run_widget(report_con, all_widgets["image-table"], state, columns)


def test_where_selects_same_rows_as_polars(
    report_con: duckdb.DuckDBPyConnection, report_df: pl.DataFrame, columns: dict[str, str]
) -> None:
    cases: list[tuple[pw.Filter, pl.Expr]] = [
        (pw.Filter("file_extension", "eq", "tif"), pl.col("file_extension") == "tif"),
        (
            pw.Filter("file_extension", "in", "png,jpg"),
            pl.col("file_extension").is_in(["png", "jpg"]),
        ),
        (pw.Filter("size_bytes", "gt", 24832), pl.col("size_bytes") > 24832),
        (pw.Filter("size_bytes", "ge", "24832"), pl.col("size_bytes") >= 24832),
        (pw.Filter("size_bytes", "lt", 24832), pl.col("size_bytes") < 24832),
        (pw.Filter("size_bytes", "le", 24832), pl.col("size_bytes") <= 24832),
        (
            pw.Filter("path", "contains", "plate 1"),
            pl.col("path").str.contains("plate 1", literal=True),
        ),
        (
            pw.Filter("path", "contains", "PLATE"),
            pl.col("path").str.contains("PLATE", literal=True),
        ),
        (
            pw.Filter("dtype", "not_contains", "uint8"),
            pl.col("dtype").is_null() | ~pl.col("dtype").str.contains("uint8", literal=True),
        ),
        (pw.Filter("mean_intensity", "contains", "."), pl.col("mean_intensity").is_not_null()),
    ]
    for flt, expr in cases:
        sql, params = pw.compile_sql(
            "SELECT count(*) FROM pp_data WHERE {{where}}",
            pw.ViewState(filters=(flt,)),
            columns,
            {},
        )
        got = report_con.execute(sql, params).fetchall()[0][0]
        assert got == report_df.filter(expr).height, flt
        assert got > 0 or flt.value == "PLATE"


def test_dims_select_the_right_level(
    report_con: duckdb.DuckDBPyConnection, report_df: pl.DataFrame, columns: dict[str, str]
) -> None:
    sql, params = pw.compile_sql(
        'SELECT "path", "dim_z" FROM pp_data WHERE "obs_level" = {{level}} AND {{where}} '
        "ORDER BY 1",
        pw.ViewState(dims={"Z": 3}),
        columns,
        {},
    )
    got = report_con.execute(sql, params).fetchall()
    expected = (
        report_df.filter((pl.col("obs_level") == 1) & (pl.col("dim_z") == 3))
        .sort("path")
        .select("path", "dim_z")
        .rows()
    )
    assert got == expected
    assert len(got) == 4  # the four ZYX stacks


def test_state_query_params_round_trip() -> None:
    state = pw.ViewState(
        group_col="dtype",
        filters=(pw.Filter("path", "contains", "a,b"), pw.Filter("size_bytes", "in", [1, 2])),
        dims={"Z": 2, "C": 0},
        controls={"histogram": {"normalised": True}, "violin-basic": {"metric": "std_intensity"}},
        widgets_excluded=("mosaic",),
        is_show_significance=True,
        palette="set2",
    )
    params = state.to_query_params()
    assert pw.ViewState.from_query_params(params) == state
    assert pw.ViewState.from_query_params({}) == pw.ViewState()
    with pytest.raises(errors.WidgetStateError):
        pw.ViewState.from_query_params({"dim": "Z:two"})
    with pytest.raises(errors.WidgetStateError):
        pw.ViewState(dims={"Y": 1})


def test_has_matches_whole_list_items_only() -> None:
    """``qc_issues has duplicate`` keeps images flagged ``duplicate``, not ``duplicate_plane``."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE pp_data AS SELECT * FROM (VALUES "
        "('a.tif', ['duplicate', 'dark']), ('b.tif', ['duplicate_plane']), ('c.tif', NULL)"
        ") AS t(path, qc_issues)"
    )
    columns = pw.table_columns(con)
    for value, want in (("duplicate", ["a.tif"]), ("duplicate_plane", ["b.tif"]), ("dup", [])):
        where, params = filters_sql(
            pw.ViewState(filters=(pw.Filter("qc_issues", "has", value),)), columns
        )
        rows = con.execute(f"SELECT path FROM pp_data WHERE {where} ORDER BY path", params)
        assert [r[0] for r in rows.fetchall()] == want, value
    con.close()
