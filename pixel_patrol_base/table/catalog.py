"""The column catalog: every column of the report table, declared once.

A :class:`Column` gives a name (or a pattern such as ``size_<axis>``), a logical type,
nullability, unit, description, producer and how the value aggregates from slices up to
the whole image. The Arrow schema (:func:`arrow_schema`), the pandera model
(:mod:`pixel_patrol_base.table.validation`), the field descriptions embedded in the Parquet and
the ``pixel-patrol schema`` output are all generated from here.

The core columns (file information, row keys, image header) are declared here; every
other column is declared by the loader or processor that fills it, in the plugin's
metadata. :func:`all_columns` and :func:`lookup` ask
:mod:`pixel_patrol_base.plugins.registry` for the installed plugins' metadata each time
(cached until the registry is refreshed), so no column depends on which plugin module
happens to have been imported.

This module imports nothing heavy at import time; Arrow types are built on demand.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger(__name__)

AXES: tuple[str, ...] = ("T", "C", "Z", "Y", "X", "S")
"""Canonical dimension letters: time, channel, depth, rows, columns, samples (RGB)."""

NON_SPATIAL_AXES: tuple[str, ...] = ("T", "C", "Z", "S")
"""Axes that obs_level rows step over; Y and X span the image unless slice_size says so."""

CORE_PRODUCER = "core"
"""Producer name of the columns every table has (file information and row keys)."""


class Aggregation(StrEnum):
    """How a per-slice value combines into the value of a coarser row."""

    NONE = "none"
    MIN = "min"
    MAX = "max"
    MEAN = "mean"  # pixel-weighted mean
    POOLED_STD = "pooled_std"
    SUM = "sum"
    HISTOGRAM = "histogram"  # merged histogram


class Levels(StrEnum):
    """Which obs_level rows carry a column."""

    ALL = "all"
    IMAGE = "image"  # obs_level 0 only


LOGICAL_TYPES: tuple[str, ...] = (
    "string",
    "bool",
    "int16",
    "int32",
    "int64",
    "float64",
    "binary",
    "timestamp",
    "list<string>",
    "list<int64>",
    "list<float64>",
)


@dataclass(frozen=True)
class Column:
    """One column (or one family of columns, when ``name`` holds ``<axis>``)."""

    name: str
    type: str
    description: str
    producer: str = CORE_PRODUCER
    nullable: bool = True
    unit: str | None = None
    aggregation: Aggregation = Aggregation.NONE
    levels: Levels = Levels.ALL

    def __post_init__(self) -> None:
        if self.type not in LOGICAL_TYPES:
            raise ValueError(f"column {self.name!r}: unknown logical type {self.type!r}")

    @property
    def is_pattern(self) -> bool:
        """Whether ``name`` is a pattern expanded once per axis."""
        return "<axis>" in self.name

    def expand(self) -> list[str]:
        """Concrete column names: one per axis for a pattern, else ``[name]``."""
        if not self.is_pattern:
            return [self.name]
        return [self.name.replace("<axis>", axis.lower()) for axis in AXES]

    def matches(self, name: str) -> bool:
        """Whether the concrete column ``name`` belongs to this declaration."""
        if not self.is_pattern:
            return name == self.name
        head, tail = self.name.split("<axis>")
        axes = "|".join(a.lower() for a in AXES)
        return re.fullmatch(f"{re.escape(head)}({axes}){re.escape(tail)}", name) is not None


def _file_columns() -> list[Column]:
    return [
        Column(
            "path",
            "string",
            "File path relative to the base directory, '/'-separated.",
            nullable=False,
        ),
        Column(
            "child_id",
            "string",
            "Id of the image inside a container file (scene or series); null for a file "
            "that holds a single image or is not an image.",
        ),
        Column(
            "obs_level",
            "int16",
            "Granularity of the row: 0 is the whole image (or file); k >= 1 holds one row "
            "per combination of k non-spatial dimension indices.",
            nullable=False,
        ),
        Column(
            "dim_<axis>",
            "int64",
            "Index along this axis that the row covers; null where the row spans the whole axis.",
        ),
        Column("name", "string", "File name with its extension.", nullable=False),
        Column(
            "parent",
            "string",
            "Folder holding the file, relative to the base directory ('.' at the top).",
            nullable=False,
        ),
        Column(
            "depth",
            "int32",
            "Number of folders between the base directory and the file.",
            nullable=False,
        ),
        Column(
            "file_extension",
            "string",
            "Lower-case extension without the dot; compound extensions such as 'ome.tif' "
            "count as one; '' when the name has none.",
            nullable=False,
        ),
        Column(
            "size_bytes",
            "int64",
            "Size on disk in bytes (the sum over all files for a folder-based format).",
            nullable=False,
            unit="B",
        ),
        Column("modification_date", "timestamp", "Last modification time, UTC.", nullable=False),
        Column(
            "imported_path",
            "string",
            "Path the file was found under, relative to the base directory ('.' when no "
            "paths were added).",
            nullable=False,
        ),
        Column(
            "imported_path_short",
            "string",
            "Short, unambiguous label of imported_path, used as the default grouping.",
            nullable=False,
        ),
        Column(
            "type",
            "string",
            "Kind of entry: 'file', or 'directory' for a folder-based format (e.g. Zarr) "
            "that counts as one file.",
            nullable=False,
        ),
        Column(
            "load_error",
            "string",
            "One-line message when the file could not be opened or decoded; null otherwise.",
            levels=Levels.IMAGE,
        ),
        Column(
            "processor_errors",
            "list<string>",
            "Failures of single processors on this image, as 'processor-id: message'; "
            "their columns are null.",
            levels=Levels.IMAGE,
        ),
    ]


def _header_columns() -> list[Column]:
    return [
        Column(
            "dim_order",
            "string",
            "Axes of the image in storage order, canonical letters T, C, Z, Y, X, S "
            "(S = samples, e.g. RGB).",
            producer="loader",
            levels=Levels.IMAGE,
        ),
        Column(
            "size_<axis>",
            "int64",
            "Extent of the row along this axis (the whole image at obs_level 0, 1 for a "
            "fixed index).",
            producer="loader",
        ),
        Column(
            "num_pixels",
            "int64",
            "Number of pixels the row covers (product of its sizes).",
            producer="loader",
            aggregation=Aggregation.SUM,
        ),
        Column(
            "shape",
            "list<int64>",
            "Shape of the image in dim_order.",
            producer="loader",
            levels=Levels.IMAGE,
        ),
        Column(
            "ndim",
            "int16",
            "Number of dimensions of the image.",
            producer="loader",
            levels=Levels.IMAGE,
        ),
        Column(
            "dtype",
            "string",
            "NumPy data type of the pixels (e.g. 'uint16').",
            producer="loader",
            levels=Levels.IMAGE,
        ),
        Column(
            "n_images",
            "int32",
            "Number of images (scenes or series) in the file this row comes from.",
            producer="loader",
            levels=Levels.IMAGE,
        ),
        Column(
            "pixel_size_<axis>",
            "float64",
            "Physical size of one pixel along this axis, in pixel_size_unit.",
            producer="loader",
            levels=Levels.IMAGE,
        ),
        Column(
            "pixel_size_unit",
            "string",
            "Unit of the pixel_size_* columns (e.g. 'µm').",
            producer="loader",
            levels=Levels.IMAGE,
        ),
        Column(
            "channel_names",
            "list<string>",
            "Channel names from the file metadata.",
            producer="loader",
            levels=Levels.IMAGE,
        ),
    ]


QC_PRODUCER = "qc"
"""Producer name of the columns the merge adds from the table itself (QC verdicts)."""


def _qc_columns() -> list[Column]:
    return [
        Column(
            "top_folder",
            "string",
            "First folder of path below the base directory ('.' for a file at the top "
            "level); the default QC grouping when no paths were added.",
            producer=QC_PRODUCER,
            nullable=False,
        ),
        Column(
            "qc_status",
            "string",
            "QC verdict of the row: 'pass', 'warn', 'fail' or 'error' (a rule that could "
            "not be evaluated), the worst over every rule; an image row also shows the "
            "worst of its slices' verdicts. Judged after the merge by the rules engine "
            "(built-in rules plus --expect), from the table alone.",
            producer=QC_PRODUCER,
            nullable=False,
        ),
        Column(
            "qc_issues",
            "list<string>",
            "Ids of the QC rules that did not pass on the row (e.g. 'nan_heavy', "
            "'saturated'), in rule order; empty when qc_status is 'pass'.",
            producer=QC_PRODUCER,
            nullable=False,
        ),
        Column(
            "qc_messages",
            "list<string>",
            "One message per entry of qc_issues, in the same order, saying what was found "
            "(e.g. 'nan_heavy: nan_fraction = 0.25').",
            producer=QC_PRODUCER,
            nullable=False,
        ),
    ]


CORE_COLUMNS: tuple[Column, ...] = (*_file_columns(), *_header_columns(), *_qc_columns())
"""The columns every report has: file information, row keys, the image header, and the
QC verdicts and grouping the merge adds (producer ``qc``; not required of a report)."""


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
    """The row key: ``(path, child_id, obs_level, dim_*)``."""
    return ["path", "child_id", "obs_level", *[f"dim_{a.lower()}" for a in AXES]]


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
