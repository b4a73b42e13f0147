"""Running widget declarations on a DuckDB connection: pure functions, no Streamlit.

Call graph::

    prepare_widgets(con, widgets, columns)      once per loaded table (``prepare`` SQL)
    run_widget(con, widget, state, columns)
      -> missing_columns -> resolve_controls -> compile_sql -> DuckDB -> pyarrow tables

The connection holds the report as table or view ``pp_data``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

import duckdb

from pixel_patrol_base.errors import (
    UnknownColumnError,
    WidgetDeclarationError,
    WidgetStateError,
)
from pixel_patrol_base.viewing.widgets.model import ViewState, Widget, WidgetResult
from pixel_patrol_base.viewing.widgets.sql import Ident, quote_ident

log = logging.getLogger(__name__)

_GROUP_FALLBACKS = ("imported_path_short", "file_extension", "dtype", "parent")
_GROUPABLE = re.compile(
    r"^(VARCHAR|BIGINT|INTEGER|SMALLINT|TINYINT|BOOLEAN|DOUBLE|FLOAT|UBIGINT|UINTEGER|"
    r"USMALLINT|UTINYINT|HUGEINT)"
)


def table_columns(con: duckdb.DuckDBPyConnection, table: str = "pp_data") -> dict[str, str]:
    """Column name -> DuckDB type name of ``table``, in table order."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return {str(name): str(dtype) for name, dtype in rows}


def group_options(columns: Mapping[str, str]) -> list[str]:
    """Columns one can group by: scalar text, integer, boolean and float columns, in order.

    ``viewer/static/src/widgets.js`` ``groupOptions`` is the JavaScript twin
    (``tests/widgets/render_vectors.json``).
    """
    return [
        name
        for name, kind in columns.items()
        if _GROUPABLE.match(kind.upper()) and not kind.endswith("[]")
    ]


def missing_columns(widget: Widget, columns: Mapping[str, str]) -> list[str]:
    """The columns ``widget`` requires that the table lacks, in declaration order."""
    return [name for name in widget.requires if name not in columns]


def resolve_controls(
    widget: Widget, state: ViewState, columns: Mapping[str, str]
) -> dict[str, object]:
    """Control id -> value for ``widget``: the state's value, else the declared default.

    Column controls give an :class:`Ident`; their value must be a table column and, when
    the control lists options, one of them.

    Raises:
        WidgetStateError: a value does not fit its control.
        UnknownColumnError: a column control names a column the table lacks.
    """
    given = state.controls.get(widget.id, {})
    unknown = set(given) - {c.id for c in widget.controls}
    if unknown:
        raise WidgetStateError(
            f"widget {widget.id!r} has no control {sorted(unknown)[0]!r}; "
            f"its controls are {', '.join(c.id for c in widget.controls) or 'none'}"
        )
    values: dict[str, object] = {}
    for control in widget.controls:
        value = given.get(control.id, control.default)
        if control.type == "toggle":
            if not isinstance(value, bool):
                raise WidgetStateError(f"control {widget.id}.{control.id} takes true or false")
        elif control.type == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise WidgetStateError(f"control {widget.id}.{control.id} takes a number")
        elif control.type == "column":
            if control.options is not None and value not in control.options:
                raise WidgetStateError(
                    f"control {widget.id}.{control.id} takes one of "
                    f"{', '.join(map(str, control.options))}, not {value!r}"
                )
            if not isinstance(value, str) or value not in columns:
                raise UnknownColumnError(
                    f"control {widget.id}.{control.id}: column {value!r} is not in the table"
                )
            value = Ident(value)
        elif control.options is not None and value not in control.options:
            raise WidgetStateError(
                f"control {widget.id}.{control.id} takes one of "
                f"{', '.join(map(str, control.options))}, not {value!r}"
            )
        values[control.id] = value
    return values


def check_state(state: ViewState, columns: Mapping[str, str]) -> None:
    """Check the group column and filter columns of ``state`` against the table.

    Raises:
        UnknownColumnError: naming the column and the table's columns.
    """
    if state.group_col is not None:
        quote_ident(state.group_col, columns)
    for flt in state.filters:
        quote_ident(flt.column, columns)


def prepare_widgets(
    con: duckdb.DuckDBPyConnection, widgets: Iterable[Widget], columns: Mapping[str, str]
) -> None:
    """Run each usable widget's ``prepare`` statements (once per loaded table)."""
    for widget in widgets:
        if missing_columns(widget, columns):
            continue
        for statement in widget.prepare:
            try:
                con.execute(statement)
            except duckdb.Error as exc:
                raise WidgetDeclarationError(
                    f"prepare step of widget {widget.id!r} ({widget.source}) failed: {exc}"
                ) from exc


def compile_widget(
    widget: Widget, state: ViewState, columns: Mapping[str, str]
) -> dict[str, tuple[str, list[object]]]:
    """Query name -> (SQL, parameters) for ``widget`` under ``state``."""
    from pixel_patrol_base.viewing.widgets.sql import compile_sql

    check_state(state, columns)
    values = resolve_controls(widget, state, columns)
    return {name: compile_sql(sql, state, columns, values) for name, sql in widget.queries.items()}


def run_widget(
    con: duckdb.DuckDBPyConnection,
    widget: Widget,
    state: ViewState,
    columns: Mapping[str, str],
) -> WidgetResult:
    """Run all queries of ``widget``; hidden (with the reason) when columns are missing.

    ``prepare_widgets`` must have run on the database first.

    Raises:
        UnknownColumnError, WidgetStateError: the state does not fit the table.
        WidgetDeclarationError: a query of the declaration fails in DuckDB.
    """
    missing = missing_columns(widget, columns)
    if missing:
        reason = f"{widget.title} is hidden: the table has no column {', '.join(missing)}"
        return WidgetResult(widget.id, {}, reason)
    data: dict[str, Any] = {}
    for name, (sql, params) in compile_widget(widget, state, columns).items():
        try:
            data[name] = con.sql(sql, params=params).to_arrow_table()
        except duckdb.ConversionException as exc:
            raise WidgetStateError(
                f"a filter value does not fit its column's type ({exc}); fix the filter"
            ) from exc
        except duckdb.Error as exc:
            raise WidgetDeclarationError(
                f"query {name!r} of widget {widget.id!r} ({widget.source}) failed: {exc}"
            ) from exc
    return WidgetResult(widget.id, data, None)


def view_visible(
    view: Mapping[str, Any], result: WidgetResult, control_values: Mapping[str, object]
) -> bool:
    """Whether a view's ``when`` condition holds.

    ``{"query": q, "min_rows": a, "max_rows": b}`` bounds the row count of query ``q``;
    ``{"control": c, "in": [...]}`` requires control ``c``'s value to be listed.
    """
    when = view.get("when")
    if when is None:
        return True
    if "control" in when:
        value = control_values[when["control"]]
        return (value.name if isinstance(value, Ident) else value) in when["in"]
    rows = result.data[when["query"]].num_rows
    return bool(when.get("min_rows", 0) <= rows <= when.get("max_rows", rows))


def default_group_col(columns: Mapping[str, str], con: duckdb.DuckDBPyConnection) -> str | None:
    """``imported_path_short`` when several paths were imported, else a column that splits.

    Tries ``imported_path_short``, ``file_extension``, ``dtype``, ``parent`` in turn and
    returns the first with more than one value among images; ``imported_path_short`` (or
    ``None`` when the table has none of them) when none splits.
    """
    present = [name for name in _GROUP_FALLBACKS if name in columns]
    for name in present:
        col = quote_ident(name, columns)
        rows = con.sql(f"SELECT count(DISTINCT {col}) FROM pp_data WHERE obs_level = 0").fetchall()
        if rows[0][0] > 1:
            return name
    return present[0] if present else None
