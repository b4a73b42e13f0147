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

_GROUP_SPLITTERS = ("imported_path_short", "top_folder")
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


GROUP_LABELS: dict[str, str] = {
    "imported_path_short": "added path",
    "top_folder": "top-level folder",
    "parent": "folder",
    "file_extension": "file extension",
}
"""How the group-by list names the folder levels and other well-known columns."""

GROUP_FIRST = ("imported_path_short", "top_folder", "parent", "file_extension")
"""Columns offered first, in this order, when the table has them."""

MAX_GROUP_INTEGERS = 20
"""An integer column is offered as a group when it has at most this many distinct values."""

NOT_GROUPS = frozenset(
    {
        "path",
        "name",
        "child_id",
        "obs_level",
        "imported_path",
        "load_error",
        "path_bytes_b64",
        "duplicate_set",
        "duplicate_of",
        "thumbnail",
        "signature",
        "phash",
    }
)
"""Columns never offered as groups: identifiers, messages, hashes and blobs."""

_TEXT_GROUP = re.compile(r"^(VARCHAR|BOOLEAN)$")
_INTEGER_GROUP = re.compile(
    r"^(BIGINT|INTEGER|SMALLINT|TINYINT|UBIGINT|UINTEGER|USMALLINT|UTINYINT)$"
)


def _group_candidate(name: str) -> bool:
    return name not in NOT_GROUPS and "hash" not in name


def group_count_sql(columns: Mapping[str, str]) -> str | None:
    """SQL giving, in one row, the distinct count among images of every integer column
    that could be a group (``None`` when there is none); :func:`group_choices` reads it.
    ``viewer/static/src/grouping.js`` builds the same text."""
    names = [
        n for n, t in columns.items() if _group_candidate(n) and _INTEGER_GROUP.match(t.upper())
    ]
    if not names:
        return None
    parts = ", ".join(
        f"count(DISTINCT {quote_ident(n, columns)}) AS {quote_ident(n, columns)}" for n in names
    )
    return f'SELECT {parts} FROM pp_data WHERE "obs_level" = 0'


def group_choices(columns: Mapping[str, str], counts: Mapping[str, int]) -> list[list[str]]:
    """[column, label] for every column the group-by list offers, well-known ones first.

    Text and boolean columns, and integer columns with at most :data:`MAX_GROUP_INTEGERS`
    distinct values (``counts``, from :func:`group_count_sql`); never :data:`NOT_GROUPS`,
    hashes, floats, lists or blobs. Labels name the folder levels (:data:`GROUP_LABELS`).
    ``viewer/static/src/grouping.js`` is the JavaScript twin
    (``tests/widgets/grouping_vectors.json``).
    """
    names = []
    for name, kind in columns.items():
        upper = kind.upper()
        if not _group_candidate(name):
            continue
        if _TEXT_GROUP.match(upper) or (
            _INTEGER_GROUP.match(upper)
            and counts.get(name, MAX_GROUP_INTEGERS + 1) <= MAX_GROUP_INTEGERS
        ):
            names.append(name)
    first = [n for n in GROUP_FIRST if n in names]
    ordered = first + [n for n in names if n not in first]
    return [[n, GROUP_LABELS.get(n, n)] for n in ordered]


def offered_groups(con: duckdb.DuckDBPyConnection, columns: Mapping[str, str]) -> list[list[str]]:
    """:func:`group_choices` of the table on ``con`` (runs :func:`group_count_sql`)."""
    sql = group_count_sql(columns)
    counts: dict[str, int] = {}
    if sql is not None:
        table = con.sql(sql).to_arrow_table()
        counts = {n: int(table.column(n)[0].as_py() or 0) for n in table.column_names}
    return group_choices(columns, counts)


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
    ``{"control": c, "in": [...]}`` requires control ``c``'s value to be listed. A
    ``when`` with both holds when both do.
    """
    when = view.get("when")
    if when is None:
        return True
    if "control" in when:
        value = control_values[when["control"]]
        if (value.name if isinstance(value, Ident) else value) not in when["in"]:
            return False
        if "query" not in when:
            return True
    rows = result.data[when["query"]].num_rows
    return bool(when.get("min_rows", 0) <= rows <= when.get("max_rows", rows))


def default_group_col(columns: Mapping[str, str], con: duckdb.DuckDBPyConnection) -> str | None:
    """The added paths (``imported_path_short``) when there are several; else the top-level
    folder (``top_folder``) when there are several; else ``file_extension``.

    Without ``file_extension``, the first of ``imported_path_short``, ``top_folder`` the
    table has, else ``None``. ``viewer/static/src/grouping.js`` is the JavaScript twin.
    """
    for name in _GROUP_SPLITTERS:
        if name in columns:
            col = quote_ident(name, columns)
            rows = con.sql(
                f"SELECT count(DISTINCT {col}) FROM pp_data WHERE obs_level = 0"
            ).fetchall()
            if rows[0][0] > 1:
                return name
    for name in ("file_extension", *_GROUP_SPLITTERS):
        if name in columns:
            return name
    return None
