"""Check the options of ``api.view`` against a report and turn them into a ViewState.

What belongs here: resolving the report path of a source (:func:`report_path`), reading
its column types (:func:`report_columns`), and checking group column, filters, dimension
selection, excluded widget ids and palette, with a
:class:`~pixel_patrol_base.errors.ViewOptionError` naming the bad value and the valid
ones (:func:`build_state`). What does not: starting Streamlit
(:mod:`pixel_patrol_base.viewing.serve`) or compiling SQL
(:mod:`pixel_patrol_base.viewing.widgets`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pixel_patrol_base.errors import (
    NotAReportError,
    UnknownWidgetError,
    ViewOptionError,
)
from pixel_patrol_base.table.columns import NON_SPATIAL_AXES
from pixel_patrol_base.viewing.filters import coerce_filter_value

if TYPE_CHECKING:
    from pixel_patrol_base.project import Project
    from pixel_patrol_base.viewing.widgets import Filter, ViewState

DIMENSION_AXES: tuple[str, ...] = NON_SPATIAL_AXES
"""Axes a view can select one index of: T, C, Z, S and the further axes (E, H, M, ...)."""
"""Axes a dimension selection may name (``dim_<axis>`` columns)."""

_INDEX = re.compile(r"^[0-9]{1,18}$")


def report_path(source: Project | str | Path) -> Path:
    """The report Parquet of a processed project, or ``source`` itself as a path.

    Raises:
        NotAReportError: when a project has not been processed yet (no report file).
    """
    from pixel_patrol_base.project import Project

    if isinstance(source, Project):
        path = Path(source.output_path)
        if not path.is_file():
            raise NotAReportError(
                f"project '{source.name}' has no report at '{path}' yet; run "
                "api.process_files(project) first"
            )
        return path
    return Path(source).expanduser()


def check_core_columns(path: Path) -> None:
    """Raise NotAReportError naming the core columns a Parquet file lacks.

    A file that is not Parquet at all is left to :func:`report.read_metadata`.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pixel_patrol_base.table import catalog

    try:
        names = set(pq.read_schema(path).names)
    except (pa.ArrowException, OSError):
        return
    missing = [c for c in catalog.core_column_names() if c not in names]
    if missing:
        raise NotAReportError(
            f"'{path}' is not a PixelPatrol table: it lacks the columns {', '.join(missing)}; "
            "pass a report written by 'pixel-patrol process' (or api.process_files)"
        )


def report_columns(path: Path) -> dict[str, str]:
    """Column name -> DuckDB type name of the report at ``path`` (schema only)."""
    import duckdb

    with duckdb.connect() as con:
        described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    return {str(r[0]): str(r[1]) for r in described}


def _closest(name: str, choices: Iterable[str]) -> str:
    import difflib

    near = difflib.get_close_matches(name, list(choices), n=3)
    return f" (did you mean {', '.join(near)}?)" if near else ""


def check_column(column: str, columns: Mapping[str, str], what: str) -> None:
    """Raise ViewOptionError when ``column`` is not a column of the report."""
    if column not in columns:
        raise ViewOptionError(
            f"{what} '{column}' is not a column of the report{_closest(column, columns)}; "
            "pass one of the columns listed by api.load(path)[0].columns"
        )


def check_filter(column: object, op: object, value: object, columns: Mapping[str, str]) -> Filter:
    """One filter ``column op value`` as a checked :class:`Filter` (value coerced).

    The shared check of ``api.view(filter_by=...)``, ``--filter-*`` and bookmarked
    ``filter`` parameters.

    Raises:
        ViewOptionError: for an unknown column or operator.
        FilterValueError: for a value that does not fit the operator or the column type.
    """
    from pixel_patrol_base.viewing.widgets import FILTER_OPS, Filter

    if not isinstance(column, str):
        raise ViewOptionError(f"filter column {column!r} is not a column name")
    check_column(column, columns, "filter column")
    if not isinstance(op, str) or op not in FILTER_OPS:
        raise ViewOptionError(
            f"filter operator '{op}' is unknown; pass one of {', '.join(FILTER_OPS)}"
        )
    return Filter(column, op, coerce_filter_value(column, columns[column], op, value))


def build_filters(
    filter_by: Mapping[str, Mapping[str, object]] | None, columns: Mapping[str, str]
) -> tuple[Filter, ...]:
    """``{"col": {"op": ..., "value": ...}}`` as checked :class:`Filter` objects.

    ``in`` takes a list or a comma-separated string. Values of numeric and boolean
    columns are parsed; ``contains``/``not_contains``/``has`` keep text (see
    :func:`coerce_filter_value` for every rule).

    Raises:
        ViewOptionError: for an unknown column, an unknown operator or a bad value
            (:class:`~pixel_patrol_base.errors.FilterValueError` for a value).
    """
    if filter_by is None:
        return ()
    if not isinstance(filter_by, Mapping):
        raise ViewOptionError(
            f"filter_by must be a dict of column -> {{'op': ..., 'value': ...}}, got "
            f"{type(filter_by).__name__}"
        )
    filters: list[Filter] = []
    for column, spec in filter_by.items():
        if not isinstance(spec, Mapping) or "op" not in spec or "value" not in spec:
            raise ViewOptionError(
                f"filter_by['{column}'] must be a dict with 'op' and 'value', e.g. "
                "{'op': 'eq', 'value': 'tif'}"
            )
        filters.append(check_filter(column, spec["op"], spec["value"], columns))
    return tuple(filters)


def check_dim(key: object, raw: object, columns: Mapping[str, str]) -> tuple[str, int]:
    """One dimension selection ``axis = index`` as ``("Z", 0)``, checked.

    The axis is one other than Y and X (any case) and the report has its
    ``dim_<axis>`` column;
    the index is a whole number from 0 to 10^18 (an int, or text of digits only).

    Raises:
        ViewOptionError: for an unknown axis or an index out of that range.
    """
    axis = str(key).strip().upper()
    if axis not in DIMENSION_AXES or f"dim_{axis.lower()}" not in columns:
        present = [a for a in DIMENSION_AXES if f"dim_{a.lower()}" in columns]
        raise ViewOptionError(
            f"dimension '{key}' is not one of this report's; pass one of "
            f"{', '.join(present) or '(none: the report has no dimension columns)'}"
        )
    text = str(raw).strip()
    if isinstance(raw, bool) or not isinstance(raw, (str, int)) or not _INDEX.match(text):
        raise ViewOptionError(
            f"dimension {axis}={raw!r} is not an index >= 0; pass e.g. {{'{key}': '0'}}"
        )
    return axis, int(text)


def build_dims(
    dimensions: Mapping[str, object] | None, columns: Mapping[str, str]
) -> dict[str, int]:
    """``{"z": "0"}`` as ``{"Z": 0}``, checked against the report's ``dim_*`` columns.

    Raises:
        ViewOptionError: for Y, X or an axis the report lacks, or an
            index that is not a whole number >= 0 (see :func:`check_dim`).
    """
    if dimensions is None:
        return {}
    if not isinstance(dimensions, Mapping):
        raise ViewOptionError(
            f"dimensions must be a dict of axis -> index, e.g. {{'z': 0}}, got "
            f"{type(dimensions).__name__}"
        )
    return dict(check_dim(key, raw, columns) for key, raw in dimensions.items())


@dataclass(frozen=True)
class ViewOptions:
    """The viewer options as the user gave them (``api.view`` or ``pixel-patrol view``);
    see :func:`pixel_patrol_base.api.view` for each one."""

    group_col: str | None = None
    filter_by: Mapping[str, Mapping[str, object]] | None = None
    dimensions: Mapping[str, object] | None = None
    widgets_excluded: Iterable[str] | None = None
    is_show_significance: bool = False
    palette: str | None = None


def check_group(group_col: object, columns: Mapping[str, str]) -> str:
    """``group_col`` if the viewer can group by it (a scalar text, number or boolean column).

    Raises:
        ViewOptionError: for an unknown column or one of another type.
    """
    from pixel_patrol_base.viewing.widgets import group_options

    if not isinstance(group_col, str):
        raise ViewOptionError(f"group column {group_col!r} is not a column name")
    check_column(group_col, columns, "group column")
    if group_col not in group_options(columns):
        raise ViewOptionError(
            f"group column '{group_col}' has type {columns[group_col]}, which cannot be "
            "grouped by; pass a text, integer, boolean or float column, e.g. file_extension"
        )
    return group_col


def check_widget_ids(ids: Iterable[str] | str | None) -> tuple[str, ...]:
    """Widget ids to hide, unique, in order; a string is one comma-separated list.

    Raises:
        UnknownWidgetError: naming the ids that are not installed.
    """
    from pixel_patrol_base.viewing.widgets import load_widgets

    if ids is None:
        return ()
    items = ids.split(",") if isinstance(ids, str) else list(ids)
    excluded = tuple(dict.fromkeys(str(i).strip() for i in items if str(i).strip()))
    known = load_widgets() if excluded else {}
    unknown = [w for w in excluded if w not in known]
    if unknown:
        raise UnknownWidgetError(
            f"unknown widget id(s) {', '.join(unknown)}; pass ids listed by "
            f"'pixel-patrol view --list-widgets' ({', '.join(known)})"
        )
    return excluded


def check_palette(palette: object) -> str:
    """``palette`` if it names a palette.

    Raises:
        ViewOptionError: naming the palettes.
    """
    from pixel_patrol_base.viewing.widgets import PALETTES

    if not isinstance(palette, str) or palette not in PALETTES:
        raise ViewOptionError(f"palette '{palette}' is unknown; pass one of {', '.join(PALETTES)}")
    return palette


def build_state(columns: Mapping[str, str], options: ViewOptions) -> ViewState:
    """The initial :class:`ViewState` of the viewer, every option checked.

    Raises:
        ViewOptionError: for an unknown group column, filter column or operator, bad
            filter value or dimension, unknown widget id or palette.
    """
    from pixel_patrol_base.viewing.widgets import ViewState

    significance = options.is_show_significance
    if not isinstance(significance, bool):
        raise ViewOptionError(f"is_show_significance must be True or False, got {significance!r}")
    kwargs: dict[str, Any] = {
        "group_col": None if options.group_col is None else check_group(options.group_col, columns),
        "filters": build_filters(options.filter_by, columns),
        "dims": build_dims(options.dimensions, columns),
        "widgets_excluded": check_widget_ids(options.widgets_excluded),
        "is_show_significance": significance,
        "palette": None if options.palette is None else check_palette(options.palette),
    }
    return ViewState(**kwargs)
