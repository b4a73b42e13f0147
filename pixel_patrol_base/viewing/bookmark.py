"""Read a bookmark, the viewer's URL query parameters, as untrusted input.

What belongs here: :func:`parse_bookmark`, which checks every parameter with the same
rules as the options of ``pixel-patrol view`` / ``api.view``
(:mod:`pixel_patrol_base.viewing.options`), drops each invalid value with a
:class:`Notice` naming it, and builds a :class:`ViewState` of the rest. What does not:
Streamlit (``viewer/pp_viewer/state.py`` reads ``st.query_params`` and shows the
notices) or writing a bookmark (:meth:`ViewState.to_query_params`).

Parameters (each may repeat where marked; for a single-valued one the last wins):

- ``group``: a column the viewer can group by;
- ``filter`` (repeated): JSON ``[column, op, value]``, checked like ``--filter-*``;
- ``dim`` (repeated): ``AXIS:INDEX``, e.g. ``Z:2``, checked like ``--dim``;
- ``ctl`` (repeated): ``widget.control=JSON``; the widget and control must exist and the
  value fit the control (:func:`check_control`);
- ``exclude`` (repeated): an installed widget id;
- ``sig``: ``1``/``true`` or ``0``/``false``;
- ``palette``: a palette name;
- ``mode``: one of the runtime's view modes (Issues, Overview, Full; any case);
- ``image``: the path of the image the single-image view shows, and ``child``: its
  ``child_id`` in a container file (only with ``image``). Whether the report has that
  image needs the table: :data:`IMAGE_SQL` counts its rows, and :func:`drop_missing_image`
  drops it with a notice when there are none (the static viewer's ``probeBookmark`` does
  the same).

Any other parameter is dropped with a notice too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pixel_patrol_base.errors import ViewOptionError, WidgetStateError
from pixel_patrol_base.viewing import options as vo
from pixel_patrol_base.viewing.widgets import Control, Filter, ViewState, Widget, resolve_controls
from pixel_patrol_base.viewing.widgets.model import ImageRef

PARAMETERS: tuple[str, ...] = (
    "group",
    "filter",
    "dim",
    "ctl",
    "exclude",
    "sig",
    "palette",
    "mode",
    "image",
    "child",
)
"""Every bookmark parameter the viewer reads."""

MAX_NUMBER = 2**53
"""Number controls take finite values of magnitude below this (exact in JSON and JS)."""

_SHOWN_CHARS = 80

MAX_PATH_CHARS = 4096
"""An ``image`` or ``child`` value longer than this is refused without a query."""

IMAGE_SQL = (
    'SELECT count(*) AS n FROM pp_data WHERE "obs_level" = 0 AND "path" = ? '
    'AND "child_id" IS NOT DISTINCT FROM ?'
)
"""Counts the image rows of ``(path, child_id)``; ``bookmark.js`` runs the same SQL."""

NO_SUCH_IMAGE = "the report has no such image"
"""The notice's reason for an ``image`` (and ``child``) naming no image of the report."""


@dataclass(frozen=True)
class Notice:
    """One dropped bookmark value: the parameter, its value (shortened) and why."""

    parameter: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"ignored the bookmark parameter {self.parameter}={self.value}: {self.reason}"


@dataclass(frozen=True)
class Bookmark:
    """What a bookmark gives: the checked state, the view mode (or None) and the notices."""

    state: ViewState
    mode: str | None
    notices: tuple[Notice, ...]


def _json(text: str) -> Any:
    """``json.loads`` without NaN / Infinity, which JSON itself does not have."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON value")

    return json.loads(text, parse_constant=refuse)


def _filter(text: str, columns: Mapping[str, str]) -> Filter:
    try:
        parsed = _json(text)
    except ValueError:
        parsed = None
    if not isinstance(parsed, list) or len(parsed) != 3:
        raise ViewOptionError('not JSON [column, op, value], e.g. ["size_bytes","gt",100]')
    column, op, value = parsed
    return vo.check_filter(column, op, value, columns)


def _dim(text: str, columns: Mapping[str, str]) -> tuple[str, int]:
    axis, sep, index = text.partition(":")
    if not sep:
        raise ViewOptionError("not AXIS:INDEX, e.g. Z:0")
    return vo.check_dim(axis, index, columns)


def check_control(
    widget: Widget, control: Control, value: object, columns: Mapping[str, str]
) -> None:
    """Refuse a value that ``control`` of ``widget`` cannot take.

    A toggle takes true/false; a select one of its options; a column control a column of
    the table (one of its options, when listed); a number a finite number of magnitude
    below 2^53, whole when the declared default is whole, and not negative when the
    default is not negative.

    Raises:
        ViewOptionError: naming the control and what it takes.
    """
    if control.type == "number":
        _check_number(widget, control, value)
    state = ViewState(controls={widget.id: {control.id: value}})
    resolve_controls(widget, state, columns)


def _check_number(widget: Widget, control: Control, value: object) -> None:
    name = f"control {widget.id}.{control.id}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise WidgetStateError(f"{name} takes a number")
    if not math.isfinite(value) or abs(value) >= MAX_NUMBER:
        raise WidgetStateError(f"{name} takes a finite number below 2^53")
    default = control.default
    if isinstance(default, int) and not isinstance(default, bool) and value != int(value):
        raise WidgetStateError(f"{name} takes a whole number")
    if isinstance(default, (int, float)) and default >= 0 and value < 0:
        raise WidgetStateError(f"{name} takes a number >= 0")


def _ctl(
    text: str, widgets: Mapping[str, Widget], columns: Mapping[str, str]
) -> tuple[str, str, object]:
    key, sep, raw = text.partition("=")
    widget_id, dot, control_id = key.partition(".")
    if not sep or not dot:
        raise ViewOptionError("not widget.control=JSON, e.g. image-table.limit=100")
    widget = widgets.get(widget_id)
    if widget is None:
        raise ViewOptionError(f"no widget '{widget_id}' is installed")
    control = next((c for c in widget.controls if c.id == control_id), None)
    if control is None:
        names = ", ".join(c.id for c in widget.controls) or "none"
        raise ViewOptionError(f"widget '{widget_id}' has no control '{control_id}' ({names})")
    try:
        value = _json(raw)
    except ValueError:
        raise ViewOptionError('the value is not JSON, e.g. 100, true or "name"') from None
    if isinstance(value, float) and value.is_integer() and isinstance(control.default, int):
        value = int(value)
    check_control(widget, control, value, columns)
    return widget_id, control_id, value


def _path_text(key: str) -> Callable[[str], str]:
    def check(text: str) -> str:
        if not text:
            raise ViewOptionError(f"the {key} is empty")
        if len(text) > MAX_PATH_CHARS:
            raise ViewOptionError(f"the {key} is longer than {MAX_PATH_CHARS} characters")
        return text

    return check


def _image(read: _Reader, columns: Mapping[str, str]) -> ImageRef | None:
    """The ``image`` / ``child`` pair (the last valid of each), checked for form only."""
    if "path" not in columns:
        for key in ("image", "child"):
            for text in read.values(key):
                read.drop(key, text, "the report has no path column")
        return None
    path = read.last("image", _path_text("image path"))
    child = read.last("child", _path_text("child id"))
    if path is None:
        for text in read.values("child") if child is not None else []:
            read.drop("child", text, "it needs an image parameter")
        return None
    return ImageRef(path, child)


def drop_missing_image(bookmark: Bookmark, count: Callable[[str, list[object]], int]) -> Bookmark:
    """``bookmark`` without its image when the report has none at that path (and child).

    Args:
        bookmark: From :func:`parse_bookmark`.
        count: Runs :data:`IMAGE_SQL` with its parameters and returns the count.
    """
    image = bookmark.state.image
    if image is None or count(IMAGE_SQL, [image.path, image.child_id]) > 0:
        return bookmark
    notices = [*bookmark.notices, Notice("image", _shorten(image.path), NO_SUCH_IMAGE)]
    return replace(bookmark, state=replace(bookmark.state, image=None), notices=tuple(notices))


def _shorten(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def _significance(text: str) -> bool:
    if text in ("1", "true", "True"):
        return True
    if text in ("0", "false", "False", ""):
        return False
    raise ViewOptionError("takes 1 or 0")


class _Reader:
    """Collects the values that pass and a notice for each one that does not."""

    def __init__(self, params: Mapping[str, str | Sequence[str]]) -> None:
        self.params = params
        self.notices: list[Notice] = []

    def values(self, key: str) -> list[str]:
        raw = self.params.get(key)
        if raw is None:
            return []
        return [raw] if isinstance(raw, str) else [str(v) for v in raw]

    def each(self, key: str, check: Callable[[str], Any]) -> list[Any]:
        """``check(value)`` for each value of ``key``; failures become notices."""
        kept = []
        for text in self.values(key):
            try:
                kept.append(check(text))
            except (ViewOptionError, RecursionError) as exc:
                self.drop(key, text, str(exc))
        return kept

    def last(self, key: str, check: Callable[[str], Any]) -> Any:
        """The last value of a single-valued ``key`` that passes, else None."""
        kept = self.each(key, check)
        return kept[-1] if kept else None

    def drop(self, key: str, text: str, reason: str) -> None:
        shown = _shorten(text)
        self.notices.append(Notice(key, shown, reason.splitlines()[0] if reason else "invalid"))


def parse_bookmark(
    params: Mapping[str, str | Sequence[str]],
    columns: Mapping[str, str],
    widgets: Mapping[str, Widget],
    modes: Sequence[str] = (),
) -> Bookmark:
    """Check every bookmark parameter; keep what passes, a :class:`Notice` per value dropped.

    Args:
        params: Parameter -> value or values (``st.query_params`` or ``parse_qs`` output).
        columns: Column name -> DuckDB type of the report.
        widgets: The installed widgets by id.
        modes: The view modes the runtime has (for ``mode``).

    Never raises for a bad value: the result holds every valid part.
    """
    read = _Reader(params)
    for key in params:
        if key not in PARAMETERS:
            read.drop(key, ", ".join(read.values(key)), "not a parameter of this viewer")

    def mode(text: str) -> str:
        # case-insensitive, as the static viewer's bookmark.js; the runtime's spelling
        named = {m.lower(): m for m in modes}
        if text.lower() not in named:
            raise ViewOptionError(f"takes one of {', '.join(modes)}")
        return named[text.lower()]

    controls: dict[str, dict[str, object]] = {}
    for widget_id, control_id, value in read.each("ctl", lambda t: _ctl(t, widgets, columns)):
        controls.setdefault(widget_id, {})[control_id] = value
    state = ViewState(
        group_col=read.last("group", lambda t: vo.check_group(t, columns)),
        filters=tuple(read.each("filter", lambda t: _filter(t, columns))),
        dims=dict(read.each("dim", lambda t: _dim(t, columns))),
        controls=controls,
        widgets_excluded=tuple(
            dict.fromkeys(w for t in read.each("exclude", vo.check_widget_ids) for w in t)
        ),
        is_show_significance=bool(read.last("sig", _significance)),
        palette=read.last("palette", vo.check_palette),
        image=_image(read, columns),
    )
    return Bookmark(state, read.last("mode", mode), tuple(read.notices))
