"""The types of the column catalog: :class:`Column`, its aggregations, levels and types.

What belongs here: the declaration type every column (core or a plugin's) is written
with, and the axis letters column patterns expand over. What does not: the
declarations themselves (:mod:`.core_columns`, and each plugin's metadata) and the
catalog built from them (:mod:`.catalog`). Only the standard library is imported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

AXES: tuple[str, ...] = ("T", "C", "Z", "Y", "X", "S")
"""The standard dimension letters: time, channel, depth, rows, columns, samples (RGB).
Every table has their ``dim_<axis>`` and ``size_<axis>`` columns."""

EXTRA_AXES: tuple[str, ...] = ("E", "H", "M", "V", "I", "R", "A", "P", "L", "Q")
"""Further axes an image may store, each kept as an axis of its own: E wavelength (λ),
H phase or lifetime bins (Airyscan detector elements), M mosaic tiles, V view, I
illumination or image sequence, R rotation, A angle, P phase, L exposure, Q other. Their
``dim_<axis>`` and ``size_<axis>`` columns exist in a table where an image has the axis."""

ALL_AXES: tuple[str, ...] = (*AXES, *EXTRA_AXES)
"""Every axis letter, in canonical order: ``dim_order`` is a subsequence of it."""

NON_SPATIAL_AXES: tuple[str, ...] = tuple(a for a in ALL_AXES if a not in ("Y", "X"))
"""Axes that obs_level rows step over; Y and X span the image unless slice_size says so."""

CORE_PRODUCER = "core"
"""Producer name of the columns every table has (file information and row keys)."""


QC_PRODUCER = "qc"
"""Producer name of the columns the merge adds from the table itself (QC verdicts)."""


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
class Bounds:
    """The declared range of a numeric column's values, checked by the merge.

    ``low <= value <= high`` (``low < value`` when ``low_open``); ``None`` leaves that
    side open. Null values are not checked (nullability is); NaN fails any bound.
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False

    def describe(self) -> str:
        """The range as text, e.g. ``[0, 1]``, ``>= 0`` or ``> 0``."""
        if self.low is not None and self.high is not None:
            return f"{'(' if self.low_open else '['}{self.low:g}, {self.high:g}]"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        return f"<= {self.high:g}" if self.high is not None else "any"


FRACTION = Bounds(0, 1)
"""A share: from 0 to 1."""
COUNT = Bounds(0)
"""A count, index or size that may be 0: at least 0."""
POSITIVE = Bounds(0, low_open=True)
"""An extent that cannot be 0: above 0."""


@dataclass(frozen=True)
class Column:
    """One column (or one family of columns, when ``name`` holds ``<axis>``).

    ``bounds`` and ``not_above`` state what the merge checks of each value besides its
    type and nullability: the range, and that the value is at most the named column's
    in the same row (both non-null), e.g. ``min_intensity`` not above ``mean_intensity``.
    """

    name: str
    type: str
    description: str
    producer: str = CORE_PRODUCER
    nullable: bool = True
    unit: str | None = None
    aggregation: Aggregation = Aggregation.NONE
    levels: Levels = Levels.ALL
    bounds: Bounds | None = None
    not_above: str | None = None

    def __post_init__(self) -> None:
        if self.type not in LOGICAL_TYPES:
            raise ValueError(f"column {self.name!r}: unknown logical type {self.type!r}")

    @property
    def is_pattern(self) -> bool:
        """Whether ``name`` is a pattern expanded once per axis."""
        return "<axis>" in self.name

    def expand(self, axes: tuple[str, ...] = AXES) -> list[str]:
        """Concrete column names: one per axis of ``axes`` (the standard ones unless
        given) for a pattern, else ``[name]``."""
        if not self.is_pattern:
            return [self.name]
        return [self.name.replace("<axis>", axis.lower()) for axis in axes]

    def matches(self, name: str) -> bool:
        """Whether the concrete column ``name`` belongs to this declaration."""
        if not self.is_pattern:
            return name == self.name
        head, tail = self.name.split("<axis>")
        axes = "|".join(a.lower() for a in ALL_AXES)
        return re.fullmatch(f"{re.escape(head)}({axes}){re.escape(tail)}", name) is not None
