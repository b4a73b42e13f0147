"""The two view modes; layout only (rendering lives in :mod:`pp_viewer.render`).

- Overview: a grid of compact tiles, each the widget's one-line summary and small chart.
- Full: every shown widget at full size, with its controls.

Each widget is drawn inside :func:`pp_viewer.guard.contained`: one that fails shows a
short message naming the log, and the others still render.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import streamlit as st

from pixel_patrol_base.viewing import widgets as pw

from . import guard, render

TILES_PER_ROW = 3


def _shown(loaded: Mapping[str, pw.Widget], current: pw.ViewState) -> list[pw.Widget]:
    return [w for w in loaded.values() if w.id not in current.widgets_excluded]


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
