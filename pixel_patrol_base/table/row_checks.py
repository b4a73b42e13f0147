"""The checks of a report table that polars makes in one pass each, without pandera.

What belongs here: whether every declared bound holds (:func:`bounds_hold`, the fast
path of a valid chunk: pandera's per-check bound checks then need not run), the
``not_above`` orders within a row (:func:`order_cases`), the row key's uniqueness
(:func:`duplicate_cases`), and the values of a chunk that cannot take their catalog
type (:func:`cast_cases`). Each returns failure cases in :data:`CASE_SCHEMA`, which
:mod:`pixel_patrol_base.table.validation` completes with the source, the row's key and
its offending value. What does not: pandera (only :mod:`.validation` imports it) and
the error message.

Binary columns never enter a failure case: pandera encodes a duplicate key's whole row
as JSON, which polars cannot do for binary data (the thumbnails), hence the key check
here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from pixel_patrol_base.table import catalog

if TYPE_CHECKING:
    import pyarrow

    from pixel_patrol_base.table.columns import Column

UNIQUENESS_CHECK = "multiple_fields_uniqueness"
"""The check name of a duplicate row key (pandera's, so reports read the same)."""

FLOAT_SLACK = 1e-9
"""Relative slack of a float bound or ``not_above`` comparison, for rounding (a weighted
mean of shares may come out as 1 + 1 ulp)."""

CASE_SCHEMA: dict[str, Any] = {
    "column": pl.String,
    "check": pl.String,
    "failure_case": pl.String,
    "index": pl.Int64,
}
"""Columns of a failure case found here: the column (null for a row-level check), the
check, the offending value as text and the row number."""


def slack(bound: float, logical: str) -> float:
    """The rounding slack of ``bound`` for a column of logical type ``logical``."""
    return FLOAT_SLACK * max(1.0, abs(bound)) if "float64" in logical else 0.0


_POLARS_TYPES: dict[str, Any] = {
    "string": pl.String,
    "bool": pl.Boolean,
    "int16": pl.Int16,
    "int32": pl.Int32,
    "int64": pl.Int64,
    "float64": pl.Float64,
    "binary": pl.Binary,
    "timestamp": pl.Datetime("us", "UTC"),
}


def polars_dtype(logical: str) -> Any:
    """The polars dtype of a catalog logical type (``list<x>`` becomes ``pl.List``)."""
    if logical.startswith("list<"):
        return pl.List(_POLARS_TYPES[logical.removeprefix("list<").removesuffix(">")])
    return _POLARS_TYPES[logical]


def bound_expr(name: str, column: Column) -> pl.Expr | None:
    """Whether each value of ``name`` lies within its declared bounds, as the pandera
    checks of :func:`_range_checks` judge it (null passes); ``None`` without bounds."""
    bounds = column.bounds
    if bounds is None:
        return None
    values = pl.col(name)
    lows, highs = (
        (values.list.min(), values.list.max())
        if column.type.startswith("list<")
        else (values, values)
    )
    ok = pl.lit(True)
    if bounds.low is not None:
        edge = bounds.low if bounds.low_open else bounds.low - slack(bounds.low, column.type)
        ok = ok & (lows > edge if bounds.low_open else lows >= edge)
    if bounds.high is not None:
        ok = ok & (highs <= bounds.high + slack(bounds.high, column.type))
    return ok.fill_null(value=True)


def bounds_hold(df: pl.DataFrame) -> bool:
    """Whether every declared bound holds in ``df`` (one pass; the fast path of a valid
    table). Columns whose dtype differs from the catalog's are left to pandera."""
    checks = []
    for name, dtype in df.schema.items():
        declared = catalog.lookup(name)
        if declared is None or dtype != polars_dtype(declared.type):
            continue
        expr = bound_expr(name, declared)
        if expr is not None:
            checks.append(expr.all().alias(name))
    return not checks or all(df.select(checks).row(0))


def empty_cases() -> pl.DataFrame:
    return pl.DataFrame(schema=CASE_SCHEMA)


def duplicate_cases(df: pl.DataFrame) -> pl.DataFrame:
    """One case per row whose key another row of ``df`` has too."""
    key = [c for c in catalog.key_columns() if c in df.columns]
    if not key or df.height < 2:
        return empty_cases()
    rows = df.select(key).is_duplicated().arg_true()
    return pl.DataFrame(
        {
            "column": None,
            "check": UNIQUENESS_CHECK,
            "failure_case": "row key repeated",
            "index": rows.cast(pl.Int64),
        },
        schema=CASE_SCHEMA,
    )


def order_cases(df: pl.DataFrame) -> pl.DataFrame:
    """Cases of a declared ``not_above`` that does not hold (both values non-null)."""
    frames = [empty_cases()]
    for name in df.columns:
        declared = catalog.lookup(name)
        other = None if declared is None else declared.not_above
        if other is None or other not in df.columns:
            continue
        if not (df.schema[name].is_numeric() and df.schema[other].is_numeric()):
            continue  # the dtype check reports it
        low, high = pl.col(name), pl.col(other)
        floats = df.schema[name].is_float() or df.schema[other].is_float()
        scale = pl.max_horizontal(pl.lit(1.0), low.abs(), high.abs())
        slack = FLOAT_SLACK * scale if floats else pl.lit(0)
        bad = df.with_row_index("index").filter((low > high + slack).fill_null(value=False))
        if bad.is_empty():
            continue
        frames.append(
            bad.select(
                pl.lit(name, pl.String).alias("column"),
                pl.lit(f"not above {other}", pl.String).alias("check"),
                pl.format("{}={}", pl.lit(other), high).alias("failure_case"),
                pl.col("index").cast(pl.Int64),
            )
        )
    return pl.concat(frames)


def _arrow_dtype(arrow_type: pyarrow.DataType) -> Any:
    import pyarrow as pa

    return pl.from_arrow(pa.nulls(0, arrow_type)).dtype  # type: ignore[union-attr]


def _uncastable(column: pyarrow.ChunkedArray, arrow_type: pyarrow.DataType) -> pl.Series:
    """Mask of the values of ``column`` that cannot become ``arrow_type``."""
    original = pl.Series(pl.from_arrow(column))
    try:
        converted = original.cast(_arrow_dtype(arrow_type), strict=False)
    except pl.exceptions.PolarsError:
        return original.is_not_null()
    return original.is_not_null() & converted.is_null()


def _value_cases(
    table: pyarrow.Table, field: pyarrow.Field, key: list[str], message: str
) -> pl.DataFrame:
    """The cases of one column of ``table`` that cannot be cast to ``field.type``."""
    check = f"cast to {field.type}"
    mask = _uncastable(table.column(field.name), field.type)
    if not mask.any():
        row = {"column": field.name, "check": check, "failure_case": message}
        return pl.DataFrame([row], schema=CASE_SCHEMA)
    rows = pl.DataFrame(pl.from_arrow(table.select(list(dict.fromkeys([*key, field.name])))))
    return (
        rows.with_row_index("index")
        .filter(mask)
        .select(
            pl.lit(field.name, pl.String).alias("column"),
            pl.lit(check, pl.String).alias("check"),
            pl.col(field.name).cast(pl.String, strict=False).alias("failure_case"),
            pl.col("index").cast(pl.Int64),
        )
    )


def cast_cases(table: pyarrow.Table, schema: pyarrow.Schema) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The values of ``table`` that cannot take ``schema``'s types, one case each.

    Returns:
        The cases (:data:`CASE_SCHEMA`; a column whose values all convert one by one
        but not as a whole gets one column-level case) and the frame they point into:
        the key columns and the offending ones as stored (binary columns left out).
    """
    import pyarrow as pa

    key = [c for c in catalog.key_columns() if c in table.column_names]
    frames = [empty_cases()]
    for field in schema:
        if field.name not in table.column_names:
            continue
        try:
            table.column(field.name).cast(field.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            frames.append(_value_cases(table, field, key, str(exc)))
    cases = pl.concat(frames)
    shown = [
        c
        for c in dict.fromkeys([*key, *cases["column"].to_list()])
        if not pa.types.is_binary(table.schema.field(c).type)
        and not pa.types.is_large_binary(table.schema.field(c).type)
    ]
    return cases, pl.DataFrame(pl.from_arrow(table.select(shown)))
