"""Finding and reading widget declarations (JSON files) from the built-ins and extensions.

Widget directories are registered under the entry-point group ``pixel_patrol.widgets``;
an entry point's object is a directory (``Path`` or ``str``) or a callable returning
one. Every ``*.json`` file in the directory is one declaration. What does not belong
here: SQL compilation and running queries.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from pixel_patrol_base.errors import UnknownWidgetError, WidgetDeclarationError
from pixel_patrol_base.viewing.widgets.model import PAGES, Control, Widget
from pixel_patrol_base.viewing.widgets.sql import PLACEHOLDER, RESERVED

ENTRY_POINT_GROUP = "pixel_patrol.widgets"
USER_DIRS_ENV = "PIXEL_PATROL_WIDGETS"
"""Environment variable naming further widget folders (``os.pathsep``-separated), e.g.
where exported custom plots are saved; they load after the installed widgets."""
BADGES = ("file", "image", "slice")
KINDS = ("chart", "kpi", "table", "mosaic")
CONTROL_TYPES = ("select", "toggle", "column", "number")
VIEW_TYPES = ("vega-lite", "kpi", "table", "mosaic")

log = logging.getLogger(__name__)


def _fail(path: Path, what: str) -> WidgetDeclarationError:
    return WidgetDeclarationError(f"widget declaration {path}: {what}; see docs/widgets.md")


def _control(path: Path, raw: Any) -> Control:
    if not isinstance(raw, dict) or not {"id", "type", "label", "default"} <= raw.keys():
        raise _fail(path, f"control {raw!r} needs id, type, label and default")
    if raw["type"] not in CONTROL_TYPES:
        raise _fail(path, f"control {raw['id']!r} has type {raw['type']!r}; use {CONTROL_TYPES}")
    if raw["id"] in RESERVED:
        raise _fail(path, f"control id {raw['id']!r} is reserved ({', '.join(RESERVED)})")
    options = raw.get("options")
    if raw["type"] == "select" and not options:
        raise _fail(path, f"select control {raw['id']!r} needs options")
    if options is not None and raw["type"] != "column" and raw["default"] not in options:
        raise _fail(path, f"control {raw['id']!r}: default is not one of its options")
    return Control(
        id=str(raw["id"]),
        type=str(raw["type"]),
        label=str(raw["label"]),
        default=raw["default"],
        options=tuple(options) if options is not None else None,
    )


def _check_placeholders(path: Path, queries: Mapping[str, str], known: set[str]) -> None:
    for name, sql in queries.items():
        for match in PLACEHOLDER.finditer(sql):
            if match.group(1) not in known:
                raise _fail(path, f"query {name!r} uses unknown placeholder {match.group(0)}")


def _check_view(path: Path, view: Any, queries: Mapping[str, str], control_ids: set[str]) -> None:
    if not isinstance(view, dict) or view.get("type") not in VIEW_TYPES:
        raise _fail(path, f"view {view!r} needs a type among {VIEW_TYPES}")
    if view.get("query") not in queries:
        raise _fail(path, f"view {view.get('id')!r} names unknown query {view.get('query')!r}")
    when = view.get("when")
    if when is not None:
        named = [key for key in ("query", "control") if key in when]
        known = {"query": queries, "control": control_ids}
        if not named or any(when[key] not in known[key] for key in named):
            raise _fail(path, f"view {view.get('id')!r}: 'when' names no query or control")
    opener = view.get("open_image")
    if opener is not None and (
        not isinstance(opener, dict)
        or not isinstance(opener.get("path"), str)
        or not all(isinstance(opener.get(k, ""), str) for k in ("child_id", "label"))
    ):
        raise _fail(
            path,
            f"view {view.get('id')!r}: 'open_image' must be "
            '{"path": column, "child_id"?: column, "label"?: text}',
        )


def parse_declaration(raw: Mapping[str, Any], path: Path, source: str) -> Widget:
    """Check one parsed declaration and turn it into a :class:`Widget`.

    Raises:
        WidgetDeclarationError: naming ``path`` and the first problem found.
    """
    need = ("id", "title", "description", "badge", "kind", "queries", "specs")
    missing = [key for key in need if key not in raw]
    if missing:
        raise _fail(path, f"missing keys {', '.join(missing)}")
    if raw["badge"] not in BADGES:
        raise _fail(path, f"badge {raw['badge']!r} is not one of {BADGES}")
    if raw["kind"] not in KINDS:
        raise _fail(path, f"kind {raw['kind']!r} is not one of {KINDS}")
    queries = raw["queries"]
    if not isinstance(queries, dict) or not all(isinstance(q, str) for q in queries.values()):
        raise _fail(path, "queries must map names to SQL text")
    controls = tuple(_control(path, c) for c in raw.get("controls", []))
    _check_placeholders(path, queries, set(RESERVED) | {c.id for c in controls})
    specs = raw["specs"]
    if not isinstance(specs, list):
        raise _fail(path, "specs must be a list of views")
    for view in specs:
        _check_view(path, view, queries, {c.id for c in controls})
    overview = raw.get("overview")
    if overview is not None and overview.get("query") not in queries:
        raise _fail(path, "overview names an unknown query")
    page = raw.get("page", "report")
    if page not in PAGES:
        raise _fail(path, f"page {page!r} is not one of {PAGES}")
    prepare = raw.get("prepare", [])
    if not isinstance(prepare, list) or any(PLACEHOLDER.search(s) for s in prepare):
        raise _fail(path, "prepare must be a list of SQL statements without placeholders")
    return Widget(
        id=str(raw["id"]),
        title=str(raw["title"]),
        description=str(raw["description"]),
        badge=str(raw["badge"]),
        kind=str(raw["kind"]),
        requires=tuple(raw.get("requires", [])),
        controls=controls,
        queries=dict(queries),
        specs=tuple(specs),
        overview=overview,
        prepare=tuple(prepare),
        source=source,
        declaration=dict(raw),
        page=str(page),
    )


def load_widget_file(path: str | Path, source: str | None = None) -> Widget:
    """Read one declaration file (a built-in, an extension's, or a custom-plot export).

    Raises:
        WidgetDeclarationError: when the file is unreadable, not JSON or malformed.
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror})") from exc
    except ValueError as exc:
        raise _fail(path, f"is not valid JSON ({exc})") from exc
    if not isinstance(raw, dict):
        raise _fail(path, "must hold a JSON object")
    return parse_declaration(raw, path, source or str(path))


def load_widget_dir(directory: str | Path, source: str | None = None) -> dict[str, Widget]:
    """Every ``*.json`` declaration in ``directory``, ordered by their ``order`` key then id.

    Raises:
        WidgetDeclarationError: when the folder is missing or a file is malformed.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise WidgetDeclarationError(f"widget directory {directory} does not exist")
    widgets = [load_widget_file(p, source or str(directory)) for p in directory.glob("*.json")]
    widgets.sort(key=lambda w: (int(w.declaration.get("order", 1000)), w.id))
    return {w.id: w for w in widgets}


def load_widgets() -> dict[str, Widget]:
    """Built-in and extension widgets from the ``pixel_patrol.widgets`` entry points,
    then those of the folders named by ``PIXEL_PATROL_WIDGETS``.

    The built-in set comes first; a later declaration with a known id is ignored with a
    warning.

    Raises:
        WidgetDeclarationError: naming the file or entry point that is bad.
    """
    found = sorted(
        entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (ep.name != "builtin", ep.name)
    )
    widgets: dict[str, Widget] = {}
    for ep in found:
        try:
            target: object = ep.load()
        except Exception as exc:
            raise WidgetDeclarationError(
                f"widget entry point {ep.name!r} ({ep.value}) cannot be imported: {exc}"
            ) from exc
        if callable(target):
            target = _call(target)
        if not isinstance(target, (str, Path)):
            raise WidgetDeclarationError(
                f"widget entry point {ep.name!r} gives {target!r}, not a directory path"
            )
        _add(widgets, load_widget_dir(target, source=ep.value), ep.value)
    for folder in filter(None, os.environ.get(USER_DIRS_ENV, "").split(os.pathsep)):
        if not Path(folder).is_dir():
            raise WidgetDeclarationError(
                f"{USER_DIRS_ENV} names '{folder}', which is not a folder; create it or "
                f"remove it from {USER_DIRS_ENV}"
            )
        source = f"{USER_DIRS_ENV}={folder}"
        _add(widgets, load_widget_dir(folder, source=source), source)
    return widgets


def _add(widgets: dict[str, Widget], found: Mapping[str, Widget], source: str) -> None:
    for wid, widget in found.items():
        if wid in widgets:
            log.warning("widget %r from %s ignored: id already declared", wid, source)
            continue
        widgets[wid] = widget


def _call(target: Callable[[], object]) -> object:
    return target()


def get_widget(widgets: Mapping[str, Widget], widget_id: str) -> Widget:
    """The widget with ``widget_id``.

    Raises:
        UnknownWidgetError: listing the known ids.
    """
    if widget_id not in widgets:
        raise UnknownWidgetError(
            f"widget {widget_id!r} is not installed; known widgets: {', '.join(widgets)}"
        )
    return widgets[widget_id]


def format_widget_list(widgets: Mapping[str, Widget] | None = None) -> str:
    """One line per widget: id, badge, title and where it came from (``--list-widgets``)."""
    widgets = load_widgets() if widgets is None else widgets
    width = max((len(w) for w in widgets), default=0)
    return "\n".join(
        f"{w.id:<{width}}  [{w.badge}]  {w.title}  ({w.source})" for w in widgets.values()
    )
