"""Validation of the report table against the column catalog, with pandera.

What belongs here: building the pandera schema from :mod:`pixel_patrol_base.table.catalog`
(:func:`report_schema`), running it lazily so that every failed check is collected
(:func:`find_failures`), and turning failures into a readable, bounded
:class:`~pixel_patrol_base.errors.ReportValidationError` (:func:`validation_error`,
:func:`validate`). What does not: reading or writing files (see
:mod:`pixel_patrol_base.pipeline.merge.combine`). This is the only module that imports pandera.

What is checked, all from the catalog declarations: each declared column's dtype and
nullability, its :class:`~pixel_patrol_base.table.columns.Bounds` (pandera checks; a
list column's every element), ``not_above`` (a value at most another column's in the
same row) and the row key's uniqueness. The last two, the rows behind a failed cast
(:func:`cast_failures`) and a one-pass test that every bound holds (so that pandera's
bound checks run only on a chunk that breaks one) live in :mod:`.row_checks`, in plain
polars: pandera JSON-encodes whole rows for a duplicate key, which fails on binary
columns (thumbnails) and costs a copy of the frame. Every failure case names its
source (chunk), row number, row key and offending value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandera.polars as pa
import polars as pl

from pixel_patrol_base.errors import ReportValidationError
from pixel_patrol_base.table import catalog, row_checks
from pixel_patrol_base.table.row_checks import polars_dtype
from pixel_patrol_base.table.row_checks import slack as _slack

__all__ = [
    "FAILURE_SCHEMA",
    "MAX_SHOWN",
    "UNIQUENESS_CHECK",
    "cast_failures",
    "describe_row",
    "find_failures",
    "polars_dtype",
    "report_schema",
    "validate",
    "validation_error",
]

if TYPE_CHECKING:
    import pyarrow
    from pandera.api.polars.container import DataFrameSchema
    from pandera.api.polars.types import PolarsData

    from pixel_patrol_base.table.columns import Bounds, Column

MAX_SHOWN = 20
"""Most failure cases an error message lists; the rest are counted."""

UNIQUENESS_CHECK = row_checks.UNIQUENESS_CHECK
"""pandera's name of the row-key uniqueness check (kept for duplicate keys)."""

FAILURE_SCHEMA: dict[str, Any] = {
    "source": pl.String,
    "column": pl.String,
    "check": pl.String,
    "failure_case": pl.String,
    "index": pl.Int64,
    "path": pl.String,
    "row_values": pl.String,
}
"""Columns of the frame :func:`find_failures` returns (pandera's, plus row context)."""


def _list_check(bounds: Bounds, logical: str) -> pa.Check:
    """Every element of a list column within ``bounds`` (an empty or null list passes)."""
    low = None if bounds.low is None else bounds.low - _slack(bounds.low, logical)
    high = None if bounds.high is None else bounds.high + _slack(bounds.high, logical)

    def check(data: PolarsData) -> pl.LazyFrame:
        values = pl.col(data.key)
        ok = pl.lit(True)
        if low is not None:
            least = values.list.min()
            ok = ok & (least.is_null() | (least > low if bounds.low_open else least >= low))
        if high is not None:
            most = values.list.max()
            ok = ok & (most.is_null() | (most <= high))
        return data.lazyframe.select(ok)

    return pa.Check(check, error=f"every element {bounds.describe()}")


def _range_checks(column: Column) -> list[pa.Check]:
    """The pandera checks of a column's declared bounds (none when it declares none)."""
    bounds = column.bounds
    if bounds is None:
        return []
    if column.type.startswith("list<"):
        return [_list_check(bounds, column.type)]
    low, high = bounds.low, bounds.high
    if "float64" not in column.type:  # exact: pandera's own check names
        if low is not None and high is not None:
            return [pa.Check.in_range(low, high, include_min=not bounds.low_open)]
        if low is not None:
            return [pa.Check.gt(low) if bounds.low_open else pa.Check.ge(low)]
        return [] if high is None else [pa.Check.le(high)]
    error = f"in {bounds.describe()}" if high is not None and low is not None else bounds.describe()
    low_edge = None if low is None else (low if bounds.low_open else low - _slack(low, "float64"))
    high_edge = None if high is None else high + _slack(high, "float64")
    if low_edge is not None and high_edge is not None:
        check = pa.Check.in_range(low_edge, high_edge, include_min=not bounds.low_open, error=error)
    elif low_edge is not None:
        check = (
            pa.Check.gt(low_edge, error=error)
            if bounds.low_open
            else pa.Check.ge(low_edge, error=error)
        )
    else:
        check = pa.Check.le(high_edge, error=error)
    return [check]


def _checks(declared: Column, *, bounds: bool = True) -> list[pa.Check]:
    """Value checks of one declared column: its bounds (and a non-empty path)."""
    checks = _range_checks(declared) if bounds else []
    if declared.name == "path":
        checks.append(pa.Check.str_length(min_value=1, error="path is empty"))
    return checks


def report_schema(
    columns: Sequence[str], *, unique: bool = True, bounds: bool = True
) -> DataFrameSchema:
    """The pandera schema of a report table holding ``columns``.

    Declared columns get their dtype, nullability and value checks (their declared
    :class:`~pixel_patrol_base.table.columns.Bounds`) from the catalog; undeclared
    columns (metadata passed through by loaders) are allowed unchecked. The row key
    (the :func:`~pixel_patrol_base.table.catalog.key_columns` present) must be unique.

    Args:
        columns: Concrete column names the table has (or must have).
        unique: Let pandera check the key's uniqueness; :func:`find_failures` checks it
            itself (pandera cannot report a duplicate in a table with binary columns).
        bounds: Include the checks of the declared bounds; :func:`find_failures` leaves
            them out when one polars pass has shown that they hold.

    Returns:
        A ``pandera.polars.DataFrameSchema`` (``strict=False``).
    """
    schema_columns: dict[str, pa.Column] = {}
    for name in columns:
        declared = catalog.lookup(name)
        if declared is None:
            continue
        schema_columns[name] = pa.Column(
            polars_dtype(declared.type),
            checks=_checks(declared, bounds=bounds),
            nullable=declared.nullable,
            description=declared.description,
        )
    key = [c for c in catalog.key_columns() if c in set(columns)]
    return pa.DataFrameSchema(
        schema_columns, unique=(key or None) if unique else None, strict=False
    )


def describe_row(row: dict[str, Any], column: str | None) -> str:
    """``path='a.tif', obs_level=0, dim_c=1 | size_bytes=-1`` for one offending row."""
    parts = [f"path={row.get('path')!r}"]
    for name in catalog.key_columns()[1:]:
        value = row.get(name)
        if value is not None:
            parts.append(f"{name}={value!r}")
    text = ", ".join(parts)
    if column is not None and column in row and column not in catalog.key_columns():
        text += f" | {column}={row[column]!r}"
    return text


def _pandera_cases(df: pl.DataFrame, names: Sequence[str]) -> pl.DataFrame:
    """dtype, nullability and bounds failures, from pandera (lazy: every check runs)."""
    try:
        report_schema(names, unique=False, bounds=not row_checks.bounds_hold(df)).validate(
            df, lazy=True
        )
    except pa.errors.SchemaErrors as exc:
        cases: pl.DataFrame = exc.failure_cases
    else:
        return row_checks.empty_cases()
    return cases.select(
        pl.col("column").cast(pl.String),
        pl.col("check").cast(pl.String),
        pl.col("failure_case").cast(pl.String),
        pl.col("index").cast(pl.Int64),
    )


def _with_context(cases: pl.DataFrame, df: pl.DataFrame, source: str) -> pl.DataFrame:
    """``cases`` with ``source``, the row's ``path`` and ``row_values`` (first cases only)."""
    paths = (
        df.select(pl.col("path").cast(pl.String)).with_row_index("index")
        if "path" in df.columns and df.schema["path"] in (pl.String, pl.Null)
        else pl.DataFrame(schema={"index": pl.UInt32, "path": pl.String})
    )
    cases = (
        cases.with_columns(pl.lit(source, pl.String).alias("source"))
        .join(paths.with_columns(pl.col("index").cast(pl.Int64)), on="index", how="left")
        .with_columns(_rank=pl.int_range(pl.len()).over("column", "check"))
    )
    described: list[str | None] = []
    for index, column, rank in cases.select("index", "column", "_rank").iter_rows():
        if index is None or rank >= MAX_SHOWN:
            described.append(None)
        else:
            described.append(describe_row(df.row(index, named=True), column))
    return (
        cases.drop("_rank")
        .with_columns(row_values=pl.Series(described, dtype=pl.String))
        .select(list(FAILURE_SCHEMA))
    )


def find_failures(df: pl.DataFrame, *, source: str = "") -> pl.DataFrame:
    """Every failed check of ``df``: dtypes, nullability, bounds, ``not_above``, the key.

    The core columns are required even when ``df`` lacks them. Binary columns are
    checked for their dtype and nullability but never encoded into a failure case.

    Args:
        df: The table to check.
        source: Where ``df`` comes from (e.g. a chunk file name), copied into each case.

    Returns:
        One row per failure case with pandera's ``column``, ``check``, ``failure_case``
        and ``index`` (row number in ``df``, null for column-level failures), plus
        ``source``, the row's ``path`` and ``row_values``, a readable description of the
        offending row (its key and the offending value) filled for the first
        :data:`MAX_SHOWN` cases of each check. The frame is empty when ``df`` is valid.
    """
    names = list(dict.fromkeys([*df.columns, *catalog.core_column_names()]))
    cases = pl.concat(
        [_pandera_cases(df, names), row_checks.duplicate_cases(df), row_checks.order_cases(df)]
    )
    if cases.is_empty():
        return pl.DataFrame(schema=FAILURE_SCHEMA)
    return _with_context(cases, df, source)


def cast_failures(
    table: pyarrow.Table, schema: pyarrow.Schema, *, source: str = ""
) -> pl.DataFrame:
    """Failure cases of the values of ``table`` that cannot be cast to ``schema``'s types.

    One case per offending value, named by its row (number, key) and the value itself,
    where Arrow's own message ("Failed to parse string: 'big'") names neither.

    Args:
        table: A chunk as read (its columns in any type).
        schema: The types the chunk must take (columns absent from ``table`` are skipped).
        source: Where ``table`` comes from (e.g. a chunk file name).

    Returns:
        The cases, in the frame layout of :func:`find_failures`; a column whose values
        all convert one by one but not as a whole gets one column-level case.
    """
    cases, context = row_checks.cast_cases(table, schema)
    if cases.is_empty():
        return pl.DataFrame(schema=FAILURE_SCHEMA)
    return _with_context(cases, context, source)


def _check_title(column: str | None, check: str) -> str:
    if check == UNIQUENESS_CHECK:
        return f"duplicate row key ({', '.join(catalog.key_columns())})"
    if check == "column_in_dataframe":
        return "required column missing"
    return check if column is None else f"column {column!r}: {check}"


def _case_line(case: dict[str, Any]) -> str:
    where = f"[{case['source']}] " if case["source"] else ""
    if case["check"] == "column_in_dataframe":
        return f"{where}missing column {case['failure_case']!r}"
    if case["index"] is None:
        return f"{where}found {case['failure_case']}"
    what = case["row_values"] or f"path={case['path']!r}"
    if case["check"].startswith("not above "):
        what += f" > {case['failure_case']}"
    return f"{where}row {case['index']}: {what}"


def validation_error(failures: pl.DataFrame, *, hint: str) -> ReportValidationError:
    """Build the error for the failure cases of :func:`find_failures`.

    The message lists every failed check with its number of cases and, in total, at
    most about :data:`MAX_SHOWN` offending rows (at least one per check); the rest are
    counted. The whole frame stays available as ``error.failure_cases``.

    Args:
        failures: Non-empty frame as returned by :func:`find_failures` (may be the
            concatenation of several).
        hint: What to do next; appended to the message.

    Returns:
        The error, ready to be raised.
    """
    groups = failures.group_by("column", "check", maintain_order=True).agg(
        pl.len().alias("n"), pl.struct(pl.all().exclude("column", "check")).alias("cases")
    )
    per_group = max(1, MAX_SHOWN // max(1, groups.height))
    lines = [f"the report table failed {groups.height} check(s), {failures.height} case(s):"]
    shown = 0
    for column, check, n, cases in groups.iter_rows():
        lines.append(f"- {_check_title(column, check)}: {n} case(s)")
        for case in cases[:per_group]:
            lines.append(f"    {_case_line({'check': check, **case})}")
            shown += 1
    if failures.height > shown:
        lines.append(f"... and {failures.height - shown} more case(s) (see .failure_cases)")
    lines.append(hint)
    error = ReportValidationError("\n".join(lines))
    # errors.ReportValidationError documents the attached pandera failure cases.
    setattr(error, "failure_cases", failures)  # noqa: B010
    return error


def validate(df: pl.DataFrame) -> pl.DataFrame:
    """Check ``df`` against the catalog and return it unchanged when valid.

    Args:
        df: A report table (core columns required, undeclared columns allowed).

    Returns:
        ``df`` itself.

    Raises:
        ReportValidationError: listing every failed check with its offending rows; the
            failure cases are attached as ``failure_cases``.
    """
    failures = find_failures(df)
    if failures.height:
        raise validation_error(
            failures, hint="Fix the rows listed above (or the plugin that produced them)."
        )
    return df
