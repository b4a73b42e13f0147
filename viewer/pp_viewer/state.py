"""The sidebar state: seeded once from the URL (or the launch options), mirrored back.

Widget values live in ``st.session_state`` under the keys below. On a session's first
run they are seeded from ``st.query_params`` when the URL carries a view, else from the
``--state`` query string that ``pixel-patrol view`` passed. Both are untrusted: each
parameter is checked by :func:`pixel_patrol_base.viewing.bookmark.parse_bookmark`, and
each invalid one is dropped with a notice (``st.session_state[NOTICES]``) that the page
shows. After the sidebar has been drawn, :func:`current` reads them back into a
:class:`ViewState` and :func:`publish` writes it to the URL, so every view can be
bookmarked.

The image of the single-image view (``image`` / ``child`` in the URL) lives under
:data:`IMAGE`; :func:`open_image` and :func:`close_image` are the button callbacks. A
change of the image makes Streamlit push a new browser history entry, and the browser's
back button reruns the app with the previous address: :func:`seed` sees an address other
than the one it last published and seeds the view from it again, so back returns to the
report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

import streamlit as st

from pixel_patrol_base.viewing import widgets as pw
from pixel_patrol_base.viewing.bookmark import drop_missing_image, parse_bookmark
from pixel_patrol_base.viewing.widgets.model import ImageRef

GROUP = "pp_group"
FILTERS = "pp_filters"
SIGNIFICANCE = "pp_significance"
PALETTE = "pp_palette"
MODE = "pp_mode"
MODES = ("Issues", "Overview", "Full")
"""The view modes; the first is the default (the Issues page)."""
MODE_PARAM = "mode"
NOTICES = "pp_notices"
IMAGE = "pp_image"
"""The :class:`ImageRef` the single-image view shows, or None (the report)."""
ALL = "all"
AXES = pw.DIM_AXES
"""Axes the sidebar has a selector for (those of them the report has)."""
_SEEDED = "pp_seeded"
_PUBLISHED = "pp_published"
_OPENERS = "pp_openers"


def dim_key(axis: str) -> str:
    """Session key of the selector of ``axis``."""
    return f"pp_dim_{axis}"


def show_key(widget_id: str) -> str:
    """Session key of the show/hide checkbox of a widget."""
    return f"pp_show__{widget_id}"


def control_key(widget_id: str, control_id: str) -> str:
    """Session key of one control of one widget."""
    return f"pp_ctl__{widget_id}__{control_id}"


def _url_params() -> dict[str, str | list[str]]:
    params: dict[str, str | list[str]] = {}
    for key in st.query_params:
        values = st.query_params.get_all(key)
        params[key] = values[0] if len(values) == 1 else list(values)
    return params


def _from_query_string(query: str) -> dict[str, str | list[str]]:
    parsed = parse_qs(query, keep_blank_values=True)
    return {k: v[0] if len(v) == 1 else v for k, v in parsed.items()}


def _navigated() -> bool:
    """Whether the address is not the one :func:`publish` wrote last (browser back/forward)."""
    published = st.session_state.get(_PUBLISHED)
    return published is not None and _url_params() != published


def seed(
    launch_query: str,
    loaded: Mapping[str, pw.Widget],
    columns: Mapping[str, str],
    default_group: str | None,
    count_image: Callable[[str, list[object]], int] | None = None,
) -> None:
    """Fill the session's widget keys: once from the URL if it has a view, else launch;
    again from the URL after the browser's back or forward button changed it.

    Every parameter is checked against the report's ``columns`` and the ``loaded``
    widgets, and the image against the table (``count_image`` runs
    :data:`~pixel_patrol_base.viewing.bookmark.IMAGE_SQL`); the notices for the values
    dropped go to ``st.session_state[NOTICES]``.
    """
    navigated = _navigated()
    if st.session_state.get(_SEEDED) and not navigated:
        return
    params = _url_params()
    has_view = any(key != MODE_PARAM for key in params)
    source = params if has_view or navigated else {**_from_query_string(launch_query), **params}
    bookmark = parse_bookmark(source, columns, loaded, MODES)
    if count_image is not None:
        bookmark = drop_missing_image(bookmark, count_image)
    state = bookmark.state
    st.session_state[NOTICES] = [str(n) for n in bookmark.notices]
    st.session_state[GROUP] = state.group_col or default_group
    st.session_state[FILTERS] = list(state.filters)
    st.session_state[SIGNIFICANCE] = state.is_show_significance
    st.session_state[PALETTE] = state.palette or next(iter(pw.PALETTES))
    st.session_state[MODE] = bookmark.mode or MODES[0]
    st.session_state[IMAGE] = state.image
    for axis in AXES:
        st.session_state[dim_key(axis)] = state.dims.get(axis, ALL)
    for widget_id, widget in loaded.items():
        st.session_state[show_key(widget_id)] = widget_id not in state.widgets_excluded
        chosen = state.controls.get(widget_id, {})
        for control in widget.controls:
            value = chosen.get(control.id, control.default)
            st.session_state[control_key(widget_id, control.id)] = value
    st.session_state[_SEEDED] = True


def current(loaded: Mapping[str, pw.Widget]) -> pw.ViewState:
    """The view state the sidebar and the widgets' controls show now."""
    dims = {
        axis: int(st.session_state[dim_key(axis)])
        for axis in AXES
        if st.session_state.get(dim_key(axis), ALL) != ALL
    }
    controls: dict[str, dict[str, Any]] = {}
    for widget_id, widget in loaded.items():
        values = {
            c.id: st.session_state[control_key(widget_id, c.id)]
            for c in widget.controls
            if st.session_state.get(control_key(widget_id, c.id), c.default) != c.default
        }
        if values:
            controls[widget_id] = values
    return pw.ViewState(
        group_col=st.session_state.get(GROUP),
        filters=tuple(st.session_state.get(FILTERS, [])),
        dims=dims,
        controls=controls,
        widgets_excluded=tuple(w for w in loaded if not st.session_state.get(show_key(w), True)),
        is_show_significance=bool(st.session_state.get(SIGNIFICANCE, False)),
        palette=st.session_state.get(PALETTE),
        image=st.session_state.get(IMAGE),
    )


def publish(state: pw.ViewState) -> None:
    """Mirror ``state`` (and the view mode) in the URL query string."""
    params: dict[str, str | list[str]] = dict(state.to_query_params())
    params[MODE_PARAM] = str(st.session_state.get(MODE, MODES[0]))
    if params != _url_params():
        st.query_params.from_dict(params)
    st.session_state[_PUBLISHED] = _url_params()


def open_image(image: ImageRef) -> None:
    """Button callback: show the single-image view of ``image``."""
    st.session_state[IMAGE] = image


def close_image() -> None:
    """Button callback: back to the report (the sidebar's filters apply again)."""
    st.session_state[IMAGE] = None


def register_opener(key: str, images: Mapping[str, ImageRef]) -> None:
    """Remember which image each choice of the picker ``key`` opens."""
    st.session_state.setdefault(_OPENERS, {})[key] = dict(images)


def open_chosen(key: str) -> None:
    """``on_change`` of an image picker (:func:`register_opener`): open the chosen image and
    empty the picker, so that it offers every image again on the way back."""
    chosen = st.session_state.get(key)
    image = st.session_state.get(_OPENERS, {}).get(key, {}).get(chosen)
    if image is not None:
        open_image(image)
    del st.session_state[key]
