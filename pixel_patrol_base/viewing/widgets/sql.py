"""The placeholder compiler: a widget's SQL template + view state -> SQL text and parameters.

This compiler is specified exactly in docs/widgets.md and implemented twice (here and in
the static viewer's JavaScript); ``tests/widgets/sql_vectors.json`` holds input/output
pairs both implementations must reproduce. Identifiers come only from the table's
schema and are double-quoted; every value becomes a positional ``?`` parameter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from pixel_patrol_base.errors import (
    UnknownColumnError,
    WidgetDeclarationError,
    WidgetStateError,
)
from pixel_patrol_base.viewing.widgets.model import DIM_AXES, Filter, ViewState

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
"""``{{name}}``; whitespace inside the braces is ignored."""

SLICE_PLACEHOLDERS: tuple[str, ...] = ("slice_axis", "slice_index", "slice_label", "slice_order")
"""Placeholders over the table's ``dim_*`` columns, so that a widget names a slice along
any axis the table has (T, C, Z, S and the further axes such as H or E)."""
RESERVED: tuple[str, ...] = ("group", "where", "filters", "dims", "level", *SLICE_PLACEHOLDERS)
"""Placeholder names set by the view state; control ids may not use them."""

_SCALAR_TYPE = re.compile(r"^[A-Z][A-Z0-9_ ]*(\(\d+(,\s*\d+)?\))?$")
_COMPARE = {"eq": "=", "gt": ">", "lt": "<", "ge": ">=", "le": "<="}


@dataclass(frozen=True)
class Ident:
    """A control value that names a column: compiled to a quoted identifier, not a ``?``."""

    name: str


def quote_ident(name: str, columns: Mapping[str, str]) -> str:
    """``name`` double-quoted, after checking it is a column of the table.

    Raises:
        UnknownColumnError: when ``name`` is not in ``columns``.
    """
    if name not in columns:
        raise UnknownColumnError(
            f"column {name!r} is not in the table; use one of: {', '.join(sorted(columns))}"
        )
    return '"' + name.replace('"', '""') + '"'


def _cast_type(column: str, columns: Mapping[str, str]) -> str:
    dtype = columns[column].upper()
    if not _SCALAR_TYPE.match(dtype):
        raise WidgetStateError(
            f"column {column!r} has type {columns[column]}, which only supports the "
            "contains / not_contains / has filters"
        )
    return dtype


def _filter_sql(flt: Filter, columns: Mapping[str, str]) -> tuple[str, list[object]]:
    col = quote_ident(flt.column, columns)
    if flt.op in ("contains", "not_contains"):
        text = f"contains(CAST({col} AS VARCHAR), ?)"
        if flt.op == "not_contains":
            text = f"({col} IS NULL OR NOT {text})"
        return text, [str(flt.value)]
    if flt.op == "has":
        if columns[flt.column].endswith("[]"):
            return f"list_contains(CAST({col} AS VARCHAR[]), ?)", [str(flt.value)]
        return f"CAST({col} AS VARCHAR) = ?", [str(flt.value)]
    dtype = _cast_type(flt.column, columns)
    if flt.op == "in":
        raw = flt.value
        values: list[object] = (
            [v.strip() for v in raw.split(",")] if isinstance(raw, str) else list(raw)  # type: ignore[call-overload]
        )
        if not values:
            return "FALSE", []
        marks = ", ".join(f"CAST(? AS {dtype})" for _ in values)
        return f"{col} IN ({marks})", values
    if isinstance(flt.value, (list, dict)):
        raise WidgetStateError(
            f"filter {flt.column} {flt.op} needs a single value, got {flt.value!r}"
        )
    return f"{col} {_COMPARE[flt.op]} CAST(? AS {dtype})", [flt.value]


def filters_sql(state: ViewState, columns: Mapping[str, str]) -> tuple[str, list[object]]:
    """The filters alone, joined by ``AND`` (``TRUE`` when there are none)."""
    parts: list[str] = []
    params: list[object] = []
    for flt in state.filters:
        text, values = _filter_sql(flt, columns)
        parts.append(text)
        params.extend(values)
    return (" AND ".join(parts) if parts else "TRUE"), params


def dims_sql(state: ViewState, columns: Mapping[str, str]) -> tuple[str, list[object]]:
    """The dimension selection alone: ``"dim_z" = ?`` per axis, axes sorted (``TRUE`` if none)."""
    parts: list[str] = []
    params: list[object] = []
    for axis, index in sorted(state.dims.items()):
        parts.append(f"{quote_ident('dim_' + axis.lower(), columns)} = ?")
        params.append(index)
    return (" AND ".join(parts) if parts else "TRUE"), params


def compile_sql(
    template: str,
    state: ViewState,
    columns: Mapping[str, str],
    control_values: Mapping[str, object],
) -> tuple[str, list[object]]:
    """Replace every ``{{name}}`` in ``template``; return the SQL and its parameters.

    - ``{{group}}``: the quoted group column, or the literal ``'all'`` when none is set;
    - ``{{filters}}`` / ``{{dims}}``: the filters / the dimension selection;
    - ``{{where}}``: ``(filters) AND (dims)``, or ``TRUE`` when both are empty;
    - ``{{level}}``: ``?`` bound to the number of selected dimensions (the ``obs_level``
      of the rows that a selection picks out);
    - ``{{slice_axis}}``, ``{{slice_index}}``, ``{{slice_label}}``, ``{{slice_order}}``:
      expressions over the table's ``dim_*`` columns (:func:`slice_sql`);
    - a control id: an :class:`Ident` value becomes a quoted identifier, any other value
      ``?``.

    Parameters are listed in the order their ``?`` appear in the text.

    Raises:
        UnknownColumnError: a group, filter, dimension or column control names no column.
        WidgetDeclarationError: the template uses an unknown placeholder.
        WidgetStateError: a filter value does not fit its operator or column type.
    """
    params: list[object] = []

    def replace(match: re.Match[str]) -> str:
        text, values = _placeholder(match.group(1), state, columns, control_values)
        params.extend(values)
        return text

    sql = PLACEHOLDER.sub(replace, template)
    return sql, params


def _placeholder(
    name: str,
    state: ViewState,
    columns: Mapping[str, str],
    control_values: Mapping[str, object],
) -> tuple[str, list[object]]:
    """The text of placeholder ``name`` and the parameters of its ``?`` (see
    :func:`compile_sql`)."""
    if name == "group":
        if state.group_col is None:
            return "'all'", []
        return quote_ident(state.group_col, columns), []
    if name in ("filters", "dims", "where"):
        return _selection_sql(name, state, columns)
    if name == "level":
        return "?", [len(state.dims)]
    if name in SLICE_PLACEHOLDERS:
        return slice_sql(name, columns), []
    if name in control_values:
        value = control_values[name]
        if isinstance(value, Ident):
            return quote_ident(value.name, columns), []
        return "?", [value]
    raise WidgetDeclarationError(
        f"SQL placeholder {{{{{name}}}}} is neither one of {', '.join(RESERVED)} "
        "nor a control id of the widget"
    )


def slice_sql(name: str, columns: Mapping[str, str]) -> str:
    """The text of a slice placeholder, over the ``dim_*`` columns of :data:`DIM_AXES` the
    table has, in that order (``NULL``, or ``''`` for the label, when it has none):

    - ``{{slice_axis}}``: ``CASE WHEN "dim_t" IS NOT NULL THEN 'T' ... END``, the axis of
      a row that fixes one;
    - ``{{slice_index}}``: ``coalesce("dim_t", ...)``, its index along that axis;
    - ``{{slice_label}}``: ``concat_ws(', ', 'T=' || "dim_t", ...)``, e.g. ``C=1, H=3``;
    - ``{{slice_order}}``: ``"dim_t" NULLS FIRST, ...``, for ``ORDER BY``.
    """
    dims = [(a, quote_ident(f"dim_{a.lower()}", columns)) for a in DIM_AXES
            if f"dim_{a.lower()}" in columns]  # fmt: skip
    if not dims:
        return "''" if name == "slice_label" else "NULL"
    if name == "slice_axis":
        return "CASE " + " ".join(f"WHEN {c} IS NOT NULL THEN '{a}'" for a, c in dims) + " END"
    if name == "slice_index":
        return f"coalesce({', '.join(c for _, c in dims)})"
    if name == "slice_label":
        labels = ", ".join(f"'{a}=' || {c}" for a, c in dims)
        return f"concat_ws(', ', {labels})"
    return ", ".join(f"{c} NULLS FIRST" for _, c in dims)


def _selection_sql(
    name: str, state: ViewState, columns: Mapping[str, str]
) -> tuple[str, list[object]]:
    """``{{filters}}``, ``{{dims}}`` or ``{{where}}`` (both are checked in every case)."""
    f_text, f_params = filters_sql(state, columns)
    d_text, d_params = dims_sql(state, columns)
    if name == "filters":
        return f_text, f_params
    if name == "dims":
        return d_text, d_params
    if not state.filters and not state.dims:
        return "TRUE", []
    return f"({f_text}) AND ({d_text})", f_params + d_params
