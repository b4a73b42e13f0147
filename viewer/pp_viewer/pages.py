"""The three view modes; layout only (rendering lives in :mod:`pp_viewer.render`).

- Issues (the default): the widgets declared with ``"page": "issues"`` at full size, and
  under a table view with ``filter_on`` one button per row that filters the whole report
  to the rows of that value (e.g. ``qc_issues has constant``).
- Overview: a grid of compact tiles, each the widget's one-line summary and small chart.
- Full: every shown widget at full size, with its controls.
- Image (the single-image view, when the state names an image): a "Back to the report"
  button, the image's path, "Open in napari" where napari is installed
  (:mod:`pp_viewer.napari`), then the widgets declared with ``"page": "image"`` at full
  size, run on :meth:`ViewState.image_view` (the report restricted to that image).

Each widget is drawn inside :func:`pp_viewer.guard.contained`: one that fails shows a
short message naming the log, and the others still render.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import streamlit as st

from pixel_patrol_base.table.footer import ProjectMetadata
from pixel_patrol_base.viewing import widgets as pw
from pixel_patrol_base.viewing.widgets.model import ImageRef

from . import guard, napari, render
from . import state as ss
from .text import literal, small

TILES_PER_ROW = 3
BUTTONS_PER_ROW = 6


def _shown(
    loaded: Mapping[str, pw.Widget], current: pw.ViewState, page: str = "report"
) -> list[pw.Widget]:
    return [w for w in loaded.values() if w.page == page and w.id not in current.widgets_excluded]


def _add_filter(flt: pw.Filter) -> None:
    """Button callback: add ``flt`` to the sidebar's filters (once)."""
    filters: list[pw.Filter] = list(st.session_state.get(ss.FILTERS, []))
    if flt not in filters:
        st.session_state[ss.FILTERS] = [*filters, flt]


def filter_buttons(widget: pw.Widget, tables: Mapping[str, Any]) -> None:
    """One button per row of each table view that declares ``filter_on``.

    ``filter_on``: ``column`` (the row's value), ``filter`` (the report column filtered),
    ``op`` (a filter operator) and ``label`` (the buttons' caption).
    """
    for view in widget.specs:
        spec = view.get("filter_on")
        table = tables.get(view.get("query", ""))
        if not spec or table is None or spec["column"] not in table.column_names:
            continue
        values = [v for v in table.column(spec["column"]).to_pylist() if v is not None]
        if not values:
            continue
        st.caption(literal(f"{spec.get('label', 'Only rows with')}:"))
        cells = st.columns(min(len(values), BUTTONS_PER_ROW))
        for i, value in enumerate(values):
            flt = pw.Filter(str(spec["filter"]), str(spec.get("op", "has")), value)
            cells[i % BUTTONS_PER_ROW].button(
                str(value),
                key=f"pp_filter_on__{widget.id}__{i}",
                on_click=_add_filter,
                args=(flt,),
                width="stretch",
            )


def issues(
    report: str,
    columns: Mapping[str, str],
    loaded: Mapping[str, pw.Widget],
    current: pw.ViewState,
) -> None:
    """The Issues page: what is wrong, at full size, with filter buttons."""
    shown = _shown(loaded, current, "issues")
    if not shown:
        st.info("No widget is declared for the Issues page; see the Overview or Full mode.")
        return
    with ThreadPoolExecutor(max_workers=render.PREFETCH_THREADS) as pool:
        pending = render.prefetch(pool, report, columns, shown, current)
        for widget in shown:
            with st.container(border=True), guard.contained(f"The widget {widget.title!r}"):
                render.widget(report, columns, widget, current, pending)
                if not pw.missing_columns(widget, columns):
                    result = render.results(report, columns, widget, current, pending)
                    filter_buttons(widget, result.data)


def overview(
    report: str,
    columns: Mapping[str, str],
    loaded: Mapping[str, pw.Widget],
    current: pw.ViewState,
) -> None:
    """The Overview grid."""
    shown = _shown(loaded, current)
    with ThreadPoolExecutor(max_workers=render.PREFETCH_THREADS) as pool:
        pending = render.prefetch(pool, report, columns, shown, current)
        for start in range(0, len(shown), TILES_PER_ROW):
            cells = st.columns(TILES_PER_ROW)
            for cell, widget in zip(cells, shown[start : start + TILES_PER_ROW], strict=False):
                with cell.container(border=True), guard.contained(f"The widget {widget.title!r}"):
                    render.tile(report, columns, widget, current, pending)


def full(
    report: str,
    columns: Mapping[str, str],
    loaded: Mapping[str, pw.Widget],
    current: pw.ViewState,
) -> None:
    """The Full view."""
    shown = _shown(loaded, current)
    with ThreadPoolExecutor(max_workers=render.PREFETCH_THREADS) as pool:
        pending = render.prefetch(pool, report, columns, shown, current)
        for widget in shown:
            with st.container(border=True), guard.contained(f"The widget {widget.title!r}"):
                render.widget(report, columns, widget, current, pending)


def image(
    report: str,
    columns: Mapping[str, str],
    loaded: Mapping[str, pw.Widget],
    current: pw.ViewState,
    meta: ProjectMetadata,
) -> None:
    """The single-image view: the report restricted to ``current.image``."""
    shown_image = current.image
    assert shown_image is not None
    st.button("← Back to the report", key="pp_image_back", on_click=ss.close_image)
    st.text(f"Image: {shown_image.path}")
    if shown_image.child_id is not None:
        small(f"image {shown_image.child_id} of the file")
    _napari_button(meta, shown_image)
    state = current.image_view()
    shown = _shown(loaded, current, "image")
    if not shown:
        st.info("No widget is declared for the image view.")
        return
    with ThreadPoolExecutor(max_workers=render.PREFETCH_THREADS) as pool:
        pending = render.prefetch(pool, report, columns, shown, state)
        for widget in shown:
            with st.container(border=True), guard.contained(f"The widget {widget.title!r}"):
                render.widget(report, columns, widget, state, pending)


def _napari_button(meta: ProjectMetadata, shown_image: ImageRef) -> None:
    """ "Open in napari", only where napari is importable, on the image's original file."""
    if not napari.available():
        return
    file = napari.original_file(meta.base_dir, shown_image.path)
    if file is None:
        st.button("Open in napari", key="pp_napari", disabled=True)
        st.caption("napari needs the image's file: the report does not record its base folder.")
        return
    if st.button("Open in napari", key="pp_napari"):
        napari.open_file(file)
        small(f"napari is starting on {file}")
