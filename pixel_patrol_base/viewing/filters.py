"""Check one viewer filter value against its operator and its column's DuckDB type.

What belongs here: :func:`coerce_filter_value`, shared by ``api.view(filter_by=...)``,
``pixel-patrol view --filter-*``, the Streamlit filter builder and bookmarked ``filter``
parameters, so each refuses the same values with the same
:class:`~pixel_patrol_base.errors.FilterValueError`. What does not: column and operator
names (:mod:`pixel_patrol_base.viewing.options`) or SQL (:mod:`.widgets.sql`, which casts
each value with ``CAST(? AS type)``, the cast checked here).
"""

from __future__ import annotations

import math
import re

from pixel_patrol_base.errors import FilterValueError

_NUMERIC_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
)
_SCALAR_TYPE = re.compile(r"^[A-Z][A-Z0-9_ ]*(\(\d+(,\s*\d+)?\))?$")
"""A DuckDB type a filter may compare with (as ``widgets.sql`` casts it); no lists."""


def _is_numeric(duck_type: str) -> bool:
    return duck_type.upper().split("(")[0] in _NUMERIC_TYPES


def _comparable(column: str, duck_type: str, op: str) -> None:
    """Refuse comparisons on list, struct and binary columns (text search only)."""
    kind = duck_type.upper()
    if not _SCALAR_TYPE.match(kind) or kind == "BLOB":
        raise FilterValueError(
            f"filter {column} {op}: column '{column}' has type {duck_type}, which only "
            "supports the operators contains, not_contains and has"
        )


def _single(column: str, op: str, raw: object) -> str | int | float:
    if raw is None or not isinstance(raw, (str, int, float)):
        raise FilterValueError(
            f"filter {column} {op} needs a single text, number or boolean value, got {raw!r}"
            + ("; use the operator 'in' for a list of values" if isinstance(raw, list) else "")
        )
    return raw


def _number(column: str, raw: str | int | float) -> int | float:
    value: int | float
    if isinstance(raw, str):
        text = raw.strip()
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise FilterValueError(
                    f"filter value {raw!r} for numeric column '{column}' is not a number; "
                    "pass e.g. 100 or 0.5"
                ) from None
    elif isinstance(raw, bool):
        raise FilterValueError(
            f"filter value {raw!r} for numeric column '{column}' is not a number; "
            "pass e.g. 100 or 0.5"
        )
    else:
        value = raw
    if isinstance(value, float) and not math.isfinite(value):
        raise FilterValueError(
            f"filter value {raw!r} for numeric column '{column}' is not a finite number"
        )
    return value


def _boolean(column: str, raw: str | int | float) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise FilterValueError(
        f"filter value {raw!r} for boolean column '{column}' is not true or false"
    )


def _check_cast(column: str, duck_type: str, op: str, value: object) -> None:
    """Bind ``value`` as the query will (``CAST(? AS type)``) and refuse what fails."""
    import duckdb

    try:
        with duckdb.connect(":memory:") as con:
            con.execute(f"SELECT CAST(? AS {duck_type})", [value])
    except duckdb.Error:
        raise FilterValueError(
            f"filter {column} {op}: value {value!r} is not a valid {duck_type} for "
            f"column '{column}'"
        ) from None


def _coerce(column: str, duck_type: str, op: str, raw: object) -> object:
    """One comparison value as the column's Python type, checked against the column type."""
    _comparable(column, duck_type, op)
    value: object = _single(column, op, raw)
    if _is_numeric(duck_type):
        value = _number(column, _single(column, op, raw))
    elif duck_type.upper() == "BOOLEAN":
        value = _boolean(column, _single(column, op, raw))
    _check_cast(column, duck_type, op, value)
    return value


def coerce_filter_value(column: str, duck_type: str, op: str, raw: object) -> object:
    """A filter value as bound for ``op`` on a column of ``duck_type``, checked.

    ``in`` gives a non-empty list (from a list or a comma-separated string);
    ``contains``, ``not_contains`` and ``has`` keep text; other operators take one value and
    parse numbers and booleans. Every compared value must survive the cast the query
    applies (``CAST(? AS type)``): a timestamp must parse, an integer fit, a number be
    finite. List, struct and binary columns support only ``contains`` / ``not_contains`` /
    ``has``.

    Raises:
        FilterValueError: when a value does not fit the operator or the column's type.
    """
    if op in ("contains", "not_contains", "has"):
        return str(_single(column, op, raw))
    if op == "in":
        if isinstance(raw, str):
            items: list[object] = [i.strip() for i in raw.split(",")]
        elif isinstance(raw, (list, tuple)):
            items = list(raw)
        else:
            raise FilterValueError(
                f"filter {column} in needs a list or comma-separated text, got {raw!r}"
            )
        if not items:
            raise FilterValueError(f"filter {column} in needs at least one value")
        return [_coerce(column, duck_type, op, i) for i in items]
    return _coerce(column, duck_type, op, raw)
