"""Validation of the report table against the column catalog, with pandera.

What belongs here: building the pandera schema from :mod:`pixel_patrol_base.table.catalog`
(:func:`report_schema`), running it lazily so that every failed check is collected
(:func:`find_failures`), and turning failures into a readable, bounded
:class:`~pixel_patrol_base.errors.ReportValidationError` (:func:`validation_error`,
:func:`validate`). What does not: reading or writing files (see
:mod:`pixel_patrol_base.pipeline.merge.combine`). This is the only module that imports pandera.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandera.polars as pa
import polars as pl

from pixel_patrol_base.errors import ReportValidationError
from pixel_patrol_base.table import catalog

if TYPE_CHECKING:
    from pandera.api.polars.container import DataFrameSchema

MAX_SHOWN = 20
"""Most failure cases an error message lists; the rest are counted."""

UNIQUENESS_CHECK = "multiple_fields_uniqueness"
"""pandera's name of the row-key uniqueness check."""

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


def polars_dtype(logical: str) -> Any:
    """The polars dtype of a catalog logical type (``list<x>`` becomes ``pl.List``)."""
    if logical.startswith("list<"):
        return pl.List(_POLARS_TYPES[logical.removeprefix("list<").removesuffix(">")])
    return _POLARS_TYPES[logical]


def _checks(declaration: str) -> list[pa.Check]:
    """Value checks of one declared column (by declaration name, patterns included)."""
    if declaration == "path":
        return [pa.Check.str_length(min_value=1, error="path is empty")]
    if declaration in {"obs_level", "size_bytes", "depth", "dim_<axis>"}:
        return [pa.Check.ge(0)]
    return []


def report_schema(columns: Sequence[str]) -> DataFrameSchema:
    """The pandera schema of a report table holding ``columns``.

    Declared columns get their dtype, nullability and value checks from the catalog;
    undeclared columns (metadata passed through by loaders) are allowed unchecked. The
    row key (the :func:`~pixel_patrol_base.table.catalog.key_columns` present) must be unique.

    Args:
        columns: Concrete column names the table has (or must have).

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
            checks=_checks(declared.name),
            nullable=declared.nullable,
            description=declared.description,
        )
    key = [c for c in catalog.key_columns() if c in set(columns)]
    return pa.DataFrameSchema(schema_columns, unique=key or None, strict=False)


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


def find_failures(df: pl.DataFrame, *, source: str = "") -> pl.DataFrame:
    """Every failed check of ``df``, validated lazily against :func:`report_schema`.

    The core columns are required even when ``df`` lacks them.

    Args:
        df: The table to check.
        source: Where ``df`` comes from (e.g. a chunk file name), copied into each case.

    Returns:
        One row per failure case with pandera's ``column``, ``check``, ``failure_case``
        and ``index`` (row number in ``df``, null for column-level failures), plus
        ``source``, the row's ``path`` and ``row_values``, a readable description of the
        offending row filled for the first :data:`MAX_SHOWN` cases of each check. The
        frame is empty when ``df`` is valid.
    """
    names = list(dict.fromkeys([*df.columns, *catalog.core_column_names()]))
    try:
        report_schema(names).validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases: pl.DataFrame = exc.failure_cases
    else:
        return pl.DataFrame(schema=FAILURE_SCHEMA)
    cases = cases.select(
        pl.lit(source, pl.String).alias("source"),
        pl.col("column").cast(pl.String),
        pl.col("check").cast(pl.String),
        pl.col("failure_case").cast(pl.String),
        pl.col("index").cast(pl.Int64),
    )
    paths = (
        df.select(pl.col("path").cast(pl.String)).with_row_index("index")
        if "path" in df.columns
        else pl.DataFrame(schema={"index": pl.UInt32, "path": pl.String})
    )
    cases = cases.join(
        paths.with_columns(pl.col("index").cast(pl.Int64)), on="index", how="left"
    ).with_columns(_rank=pl.int_range(pl.len()).over("column", "check"))
    described: list[str | None] = []
    for index, column, rank in cases.select("index", "column", "_rank").iter_rows():
        if index is None or rank >= MAX_SHOWN:
            described.append(None)
        else:
            described.append(describe_row(df.row(index, named=True), column))
    return cases.drop("_rank").with_columns(row_values=pl.Series(described, dtype=pl.String))


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
