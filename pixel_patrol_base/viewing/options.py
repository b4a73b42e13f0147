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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pixel_patrol_base.errors import NotAReportError, ViewOptionError

if TYPE_CHECKING:
    from pixel_patrol_base.project import Project
    from pixel_patrol_base.viewing.widgets import Filter, ViewState

DIMENSION_AXES: tuple[str, ...] = ("T", "C", "Z", "S")
"""Axes a dimension selection may name (``dim_<axis>`` columns)."""

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


def _is_numeric(duck_type: str) -> bool:
    return duck_type.upper().split("(")[0] in _NUMERIC_TYPES


def _coerce(column: str, duck_type: str, raw: object) -> object:
    """A filter value as the column's Python type (numbers and booleans parsed)."""
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    if _is_numeric(duck_type):
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            raise ViewOptionError(
                f"filter value {raw!r} for numeric column '{column}' is not a number; "
                "pass e.g. 100 or 0.5"
            ) from None
    if duck_type.upper() == "BOOLEAN":
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise ViewOptionError(
            f"filter value {raw!r} for boolean column '{column}' is not true or false"
        )
    return raw


def _closest(name: str, choices: Iterable[str]) -> str:
    import difflib

    near = difflib.get_close_matches(name, list(choices), n=3)
    return f" (did you mean {', '.join(near)}?)" if near else ""


def coerce_filter_value(column: str, duck_type: str, op: str, raw: object) -> object:
    """A filter value as bound for ``op`` on a column of ``duck_type``.

    ``in`` gives a list (from a list or a comma-separated string); ``contains`` and
    ``not_contains`` keep text; other operators parse numbers and booleans.

    Raises:
        ViewOptionError: when a value does not fit the column's type.
    """
    if op == "in":
        items = raw.split(",") if isinstance(raw, str) else list(raw)  # type: ignore[call-overload]
        return [_coerce(column, duck_type, i) for i in items]
    if op in ("contains", "not_contains"):
        return str(raw)
    return _coerce(column, duck_type, raw)


def check_column(column: str, columns: Mapping[str, str], what: str) -> None:
    """Raise ViewOptionError when ``column`` is not a column of the report."""
    if column not in columns:
        raise ViewOptionError(
            f"{what} '{column}' is not a column of the report{_closest(column, columns)}; "
            "pass one of the columns listed by api.load(path)[0].columns"
        )


def build_filters(
    filter_by: Mapping[str, Mapping[str, object]] | None, columns: Mapping[str, str]
) -> tuple[Filter, ...]:
    """``{"col": {"op": ..., "value": ...}}`` as checked :class:`Filter` objects.

    ``in`` takes a list or a comma-separated string. Values of numeric and boolean
    columns are parsed; ``contains``/``not_contains`` keep text.

    Raises:
        ViewOptionError: for an unknown column, an unknown operator or a bad value.
    """
    from pixel_patrol_base.viewing.widgets import FILTER_OPS, Filter

    filters: list[Filter] = []
    for column, spec in (filter_by or {}).items():
        check_column(column, columns, "filter column")
        if not isinstance(spec, Mapping) or "op" not in spec or "value" not in spec:
            raise ViewOptionError(
                f"filter_by['{column}'] must be a dict with 'op' and 'value', e.g. "
                "{'op': 'eq', 'value': 'tif'}"
            )
        op = str(spec["op"])
        if op not in FILTER_OPS:
            raise ViewOptionError(
                f"filter operator '{op}' is unknown; pass one of {', '.join(FILTER_OPS)}"
            )
        filters.append(
            Filter(column, op, coerce_filter_value(column, columns[column], op, spec["value"]))
        )
    return tuple(filters)


def build_dims(
    dimensions: Mapping[str, object] | None, columns: Mapping[str, str]
) -> dict[str, int]:
    """``{"z": "0"}`` as ``{"Z": 0}``, checked against the report's ``dim_*`` columns.

    Raises:
        ViewOptionError: for an axis other than T, C, Z, S, one the report lacks, or an
            index that is not a whole number >= 0.
    """
    dims: dict[str, int] = {}
    for key, raw in (dimensions or {}).items():
        axis = str(key).strip().upper()
        if axis not in DIMENSION_AXES or f"dim_{axis.lower()}" not in columns:
            raise ViewOptionError(
                f"dimension '{key}' is unknown; pass one of {', '.join(DIMENSION_AXES)}"
            )
        try:
            index = int(str(raw).strip())
        except ValueError:
            index = -1
        if index < 0:
            raise ViewOptionError(
                f"dimension {axis}={raw!r} is not an index >= 0; pass e.g. {{'{key}': '0'}}"
            )
        dims[axis] = index
    return dims


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


def build_state(columns: Mapping[str, str], options: ViewOptions) -> ViewState:
    """The initial :class:`ViewState` of the viewer, every option checked.

    Raises:
        ViewOptionError: for an unknown group column, filter column or operator, bad
            filter value or dimension, unknown widget id or palette.
    """
    from pixel_patrol_base.viewing.widgets import PALETTES, ViewState, load_widgets

    group_col, palette = options.group_col, options.palette

    if group_col is not None:
        check_column(group_col, columns, "group column")
    excluded = tuple(dict.fromkeys(options.widgets_excluded or ()))
    if excluded:
        known = load_widgets()
        unknown = [w for w in excluded if w not in known]
        if unknown:
            raise ViewOptionError(
                f"unknown widget id(s) {', '.join(unknown)}; pass ids listed by "
                f"'pixel-patrol view --list-widgets' ({', '.join(known)})"
            )
    if palette is not None and palette not in PALETTES:
        raise ViewOptionError(f"palette '{palette}' is unknown; pass one of {', '.join(PALETTES)}")
    kwargs: dict[str, Any] = {
        "group_col": group_col,
        "filters": build_filters(options.filter_by, columns),
        "dims": build_dims(options.dimensions, columns),
        "widgets_excluded": excluded,
        "is_show_significance": bool(options.is_show_significance),
        "palette": palette,
    }
    return ViewState(**kwargs)
