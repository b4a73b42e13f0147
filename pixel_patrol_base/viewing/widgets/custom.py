"""Exporting the custom-plot widget's current settings as a new declaration file."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from pixel_patrol_base.errors import WidgetStateError
from pixel_patrol_base.viewing.widgets.model import ViewState, Widget

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def export_custom_plot(widget: Widget, state: ViewState, new_id: str, title: str) -> dict[str, Any]:
    """A declaration equal to ``widget`` with its controls' defaults set from ``state``.

    Args:
        widget: The ``custom-plot`` widget (any widget works).
        state: The view state whose ``controls[widget.id]`` holds the chosen values.
        new_id: Id of the new widget: lower-case letters, digits and dashes.
        title: Title of the new widget.

    Raises:
        WidgetStateError: when ``new_id`` is not a valid id.
    """
    if not _ID.match(new_id):
        raise WidgetStateError(
            f"widget id {new_id!r} is invalid; use lower-case letters, digits and dashes"
        )
    declaration = copy.deepcopy(dict(widget.declaration))
    chosen = state.controls.get(widget.id, {})
    for control in declaration.get("controls", []):
        if control["id"] in chosen:
            control["default"] = chosen[control["id"]]
    declaration.update(id=new_id, title=title, order=1000)
    declaration["description"] = f"{title} (exported from {widget.id})."
    return declaration


def write_custom_plot(
    path: str | Path, widget: Widget, state: ViewState, new_id: str, title: str
) -> Path:
    """Write :func:`export_custom_plot`'s declaration to ``path`` (a ``.json`` file)."""
    path = Path(path)
    text = json.dumps(export_custom_plot(widget, state, new_id, title), indent=2)
    path.write_text(text + "\n", encoding="utf-8")
    return path
