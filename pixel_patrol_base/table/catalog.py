"""The column catalog: every column of the report table, declared once.

A :class:`Column` gives a name (or a pattern such as ``size_<axis>``), a logical type,
nullability, unit, description, producer and how the value aggregates from slices up to
the whole image. The Arrow schema (:func:`arrow_schema`), the pandera model
(:mod:`pixel_patrol_base.table.validation`), the field descriptions embedded in the Parquet and
the ``pixel-patrol schema`` output are all generated from here.

The declaration type lives in :mod:`.columns` and the core columns (file information,
row keys, image header, QC verdicts) in :mod:`.core_columns`; every other column is
declared by the loader or processor that fills it, in the plugin's metadata.
:func:`all_columns` and :func:`lookup` ask :mod:`pixel_patrol_base.plugins.registry`
for the installed plugins' metadata each time (cached until the registry is refreshed),
so no column depends on which plugin module happens to have been imported.

This module imports nothing heavy at import time; Arrow types are built on demand.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pixel_patrol_base.table.columns import (
    ALL_AXES,
    AXES,
    CORE_PRODUCER,
    COUNT,
    EXTRA_AXES,
    FRACTION,
    LOGICAL_TYPES,
    NON_SPATIAL_AXES,
    POSITIVE,
    QC_PRODUCER,
    Aggregation,
    Bounds,
    Column,
    Levels,
)
from pixel_patrol_base.table.core_columns import CORE_COLUMNS

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "ALL_AXES",
    "AXES",
    "CORE_COLUMNS",
    "CORE_PRODUCER",
    "COUNT",
    "EXTRA_AXES",
    "FRACTION",
    "LOGICAL_TYPES",
    "NON_SPATIAL_AXES",
    "POSITIVE",
    "QC_PRODUCER",
    "Aggregation",
    "Bounds",
    "Column",
    "Levels",
    "all_columns",
    "arrow_field",
    "arrow_schema",
    "arrow_type",
    "core_column_names",
    "key_columns",
    "lookup",
    "qc_column_names",
    "register",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Index:
    """Every declared column, by name, with the patterns to match concrete names against."""

    columns: dict[str, Column]
    patterns: tuple[Column, ...]


class _Memo:
    """The index built from the last plugin metadata seen (rebuilt after a refresh)."""

    state: tuple[object, object, _Index] | None = None


def _add(found: dict[str, Column], column: Column, owner: str) -> None:
    existing = found.get(column.name)
    if existing is None:
        found[column.name] = column
    elif existing != column:
        logger.warning(
            "column %r of %s differs from its earlier declaration (producer %r); the "
            "earlier one stays in the catalog",
            column.name,
            owner,
            existing.producer,
        )


def _index() -> _Index:
    from pixel_patrol_base.plugins import registry

    loaders, processors = registry.installed_loaders(), registry.installed_processors()
    state = _Memo.state
    if state is not None and state[0] is loaders and state[1] is processors:
        return state[2]
    found = {c.name: c for c in CORE_COLUMNS}
    for loader in loaders:
        for column in loader.columns:
            _add(found, column, f"loader {loader.id!r}")
    for processor in processors:
        for column in processor.columns:
            _add(found, column, f"processor {processor.id!r}")
    index = _Index(found, tuple(c for c in found.values() if c.is_pattern))
    _Memo.state = (loaders, processors, index)
    return index


def all_columns() -> list[Column]:
    """Every declared column: the core ones, then each installed loader's and processor's.

    The plugins' columns come from their metadata, asked of
    :mod:`pixel_patrol_base.plugins.registry`; no plugin implementation is imported.
    """
    return list(_index().columns.values())


def lookup(name: str) -> Column | None:
    """The declaration a concrete column name belongs to, or ``None`` if undeclared."""
    index = _index()
    direct = index.columns.get(name)
    if direct is not None:
        return direct
    for column in index.patterns:
        if column.matches(name):
            return column
    return None


def core_column_names() -> list[str]:
    """Concrete names of the core (file and key) columns, in catalog order."""
    return [n for c in CORE_COLUMNS if c.producer == CORE_PRODUCER for n in c.expand()]


def qc_column_names() -> list[str]:
    """Names of the columns the merge adds itself: the QC grouping and verdicts."""
    return [c.name for c in CORE_COLUMNS if c.producer == QC_PRODUCER]


def register(columns: Iterable[Column]) -> None:
    """Deprecated and without effect: plugins declare their columns in their metadata.

    A processor's columns come from its ``ProcessorMetadata.columns`` (or, for an entry
    point that names the processor object itself, from the object's ``columns``), so a
    module that still calls this at import keeps working.
    """
    del columns
    warnings.warn(
        "catalog.register() does nothing any more: the catalog reads each plugin's columns "
        "from its entry point's metadata (see 'Plugins' in the README)",
        DeprecationWarning,
        stacklevel=2,
    )


def key_columns() -> list[str]:
    """The row key: ``(path, child_id, obs_level, dim_*)``, over every axis letter (a
    table holds the ``dim_*`` of the standard axes and of the further axes it has)."""
    return ["path", "child_id", "obs_level", *[f"dim_{a.lower()}" for a in ALL_AXES]]


def arrow_type(logical: str) -> pa.DataType:
    """The Arrow type of a logical type name."""
    import pyarrow as pa

    simple: dict[str, pa.DataType] = {
        "string": pa.large_string(),
        "bool": pa.bool_(),
        "int16": pa.int16(),
        "int32": pa.int32(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "binary": pa.large_binary(),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }
    if logical in simple:
        return simple[logical]
    inner = logical.removeprefix("list<").removesuffix(">")
    return pa.large_list(simple[inner])


def arrow_field(name: str) -> pa.Field:
    """The Arrow field of a declared column, with its description as field metadata.

    Raises:
        KeyError: when ``name`` is not declared in the catalog.
    """
    import pyarrow as pa

    column = lookup(name)
    if column is None:
        raise KeyError(f"column {name!r} is not declared in the column catalog")
    metadata = {
        "description": column.description,
        "producer": column.producer,
        "aggregation": column.aggregation.value,
    }
    if column.unit:
        metadata["unit"] = column.unit
    return pa.field(name, arrow_type(column.type), nullable=column.nullable, metadata=metadata)


def arrow_schema(names: Iterable[str]) -> pa.Schema:
    """Arrow schema for the given concrete column names, in that order."""
    import pyarrow as pa

    return pa.schema([arrow_field(n) for n in names])
