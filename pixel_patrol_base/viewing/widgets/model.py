"""The viewer's plain data types: filters, the view state, widget declarations, results.

What belongs here: frozen dataclasses and their (de)serialisation to URL query
parameters. What does not: SQL (see :mod:`.sql`), reading declaration files (see
:mod:`.loader`) and running queries (see :mod:`.query`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa

from pixel_patrol_base.errors import UnknownFilterOpError, WidgetStateError
from pixel_patrol_base.table.columns import NON_SPATIAL_AXES

FILTER_OPS: tuple[str, ...] = (
    "eq",
    "in",
    "gt",
    "lt",
    "ge",
    "le",
    "contains",
    "not_contains",
    "has",
)
"""Filter operators, in the order the filter builder lists them."""

PAGES: tuple[str, ...] = ("report", "issues", "image")
"""Pages a widget declaration may name with its ``page`` key (default ``report``); the
``image`` page is the single-image view (:attr:`ViewState.image`)."""

DIM_AXES: tuple[str, ...] = NON_SPATIAL_AXES
"""Axes a dimension selection may fix (column ``dim_<axis lower-case>``): T, C, Z, S and
the further axes (E, H, M, ...)."""


@dataclass(frozen=True)
class Filter:
    """One filter condition: ``column op value``.

    ``in`` takes a list (a comma-separated string is split); ``contains`` and
    ``not_contains`` are case-sensitive substring tests on the value cast to text;
    ``has`` tests that a list column holds the value (as text) as one whole item, so
    ``qc_issues has duplicate`` does not match ``duplicate_plane`` (on a column that is
    not a list it is equality of the value as text).
    """

    column: str
    op: str
    value: object

    def __post_init__(self) -> None:
        if self.op not in FILTER_OPS:
            raise UnknownFilterOpError(
                f"filter operator {self.op!r} on column {self.column!r} is unknown; "
                f"use one of {', '.join(FILTER_OPS)}"
            )


@dataclass(frozen=True)
class ImageRef:
    """One image of the report: its ``path`` and, in a container file, its ``child_id``.

    Rows are keyed by ``(path, child_id, obs_level, dim_*)``; ``child_id`` is null for a
    file that holds a single image, so ``None`` here means that file's image.
    """

    path: str
    child_id: str | None = None

    def filters(self) -> tuple[Filter, ...]:
        """The filters that keep this image's rows (the image row and its slices)."""
        found = [Filter("path", "eq", self.path)]
        if self.child_id is not None:
            found.append(Filter("child_id", "eq", self.child_id))
        return tuple(found)


@dataclass(frozen=True)
class ViewState:
    """Everything the sidebar sets; the same state drives both viewer runtimes."""

    group_col: str | None = None
    filters: tuple[Filter, ...] = ()
    dims: Mapping[str, int] = field(default_factory=dict)
    controls: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    widgets_excluded: tuple[str, ...] = ()
    is_show_significance: bool = False
    palette: str | None = None
    image: ImageRef | None = None
    """The image the single-image view shows; ``None`` shows the report."""

    def __post_init__(self) -> None:
        for axis, index in self.dims.items():
            if axis not in DIM_AXES:
                raise WidgetStateError(
                    f"dimension {axis!r} cannot be selected; use one of {', '.join(DIM_AXES)}"
                )
            if isinstance(index, bool) or not isinstance(index, int) or index < 0:
                raise WidgetStateError(
                    f"dimension {axis}={index!r} is not a valid index; give an integer >= 0"
                )

    def to_query_params(self) -> dict[str, str | list[str]]:
        """The state as URL query parameters (for bookmarks); inverse of :meth:`from_query_params`.

        Keys: ``group``, ``filter`` (JSON ``[column, op, value]``, repeated), ``dim``
        (``Z:2``, repeated), ``ctl`` (``widget.control=JSON``, repeated), ``exclude``
        (repeated), ``sig`` (``1``), ``palette``, ``image`` (the image's path) and ``child``
        (its ``child_id``, when it has one). Empty parts are left out.
        """
        params: dict[str, str | list[str]] = {}
        if self.group_col is not None:
            params["group"] = self.group_col
        if self.filters:
            params["filter"] = [
                json.dumps([f.column, f.op, f.value], separators=(",", ":")) for f in self.filters
            ]
        if self.dims:
            params["dim"] = [f"{axis}:{index}" for axis, index in sorted(self.dims.items())]
        ctl = [
            f"{wid}.{cid}={json.dumps(value, separators=(',', ':'))}"
            for wid, values in sorted(self.controls.items())
            for cid, value in sorted(values.items())
        ]
        if ctl:
            params["ctl"] = ctl
        if self.widgets_excluded:
            params["exclude"] = list(self.widgets_excluded)
        if self.is_show_significance:
            params["sig"] = "1"
        if self.palette is not None:
            params["palette"] = self.palette
        if self.image is not None:
            params["image"] = self.image.path
            if self.image.child_id is not None:
                params["child"] = self.image.child_id
        return params

    def image_view(self) -> ViewState:
        """The state the single-image view's widgets run with: the report restricted to
        :attr:`image` (its filters replace the sidebar's, and no dimension is selected,
        so the image's own rows and all its slices are shown); ``self`` without an image.

        The sidebar's filters would hide the image's slices (image-level columns are null
        on slice rows), so they apply again on the way back to the report.
        """
        if self.image is None:
            return self
        return replace(self, filters=self.image.filters(), dims={})

    @classmethod
    def from_query_params(cls, params: Mapping[str, str | list[str]]) -> ViewState:
        """Rebuild a state from :meth:`to_query_params` output (single values or lists).

        Raises:
            WidgetStateError: when a parameter cannot be parsed.
            UnknownFilterOpError: when a filter names an unknown operator.
        """

        def many(key: str) -> list[str]:
            value = params.get(key)
            if value is None:
                return []
            return [value] if isinstance(value, str) else list(value)

        def one(key: str) -> str | None:
            values = many(key)
            return values[-1] if values else None

        filters = []
        for text in many("filter"):
            try:
                column, op, value = json.loads(text)
            except (ValueError, TypeError) as exc:
                raise WidgetStateError(
                    f"filter parameter {text!r} is not JSON [column, op, value]"
                ) from exc
            filters.append(Filter(str(column), str(op), value))
        dims: dict[str, int] = {}
        for text in many("dim"):
            axis, _, index = text.partition(":")
            if not index.isdigit():
                raise WidgetStateError(f"dim parameter {text!r} must look like Z:2")
            dims[axis.upper()] = int(index)
        controls: dict[str, dict[str, object]] = {}
        for text in many("ctl"):
            key, sep, raw = text.partition("=")
            wid, dot, cid = key.partition(".")
            try:
                value = json.loads(raw)
            except ValueError as exc:
                raise WidgetStateError(f"ctl parameter {text!r} has no JSON value") from exc
            if not sep or not dot:
                raise WidgetStateError(f"ctl parameter {text!r} must look like widget.control=1")
            controls.setdefault(wid, {})[cid] = value
        path = one("image")
        child = one("child")
        return cls(
            image=None if path is None else ImageRef(path, child),
            group_col=one("group"),
            filters=tuple(filters),
            dims=dims,
            controls=controls,
            widgets_excluded=tuple(many("exclude")),
            is_show_significance=one("sig") in {"1", "true", "True"},
            palette=one("palette"),
        )


@dataclass(frozen=True)
class Control:
    """A widget control: ``select`` | ``toggle`` | ``column`` | ``number``."""

    id: str
    type: str
    label: str
    default: object
    options: tuple[Any, ...] | None = None


@dataclass(frozen=True, eq=False)
class Widget:
    """One widget declaration, as read from its JSON file (see docs/widgets.md)."""

    id: str
    title: str
    description: str
    badge: str
    kind: str
    requires: tuple[str, ...]
    controls: tuple[Control, ...]
    queries: Mapping[str, str]
    specs: tuple[Mapping[str, Any], ...]
    overview: Mapping[str, Any] | None
    prepare: tuple[str, ...]
    source: str
    declaration: Mapping[str, Any] = field(default_factory=dict)
    page: str = "report"
    """Which page shows it: ``report`` (Overview and Full modes) or ``issues``."""


@dataclass(frozen=True, eq=False)
class WidgetResult:
    """What :func:`~.query.run_widget` returns: one Arrow table per query name.

    ``hidden_reason`` is set (and ``data`` empty) when the table lacks required columns.
    """

    widget_id: str
    data: Mapping[str, pa.Table]
    hidden_reason: str | None = None
