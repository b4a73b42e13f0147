"""The sidebar: group by, filters, dimensions, significance, palette, widgets, export.

Layout only: values go to ``st.session_state`` (keys in :mod:`pp_viewer.state`); the
page reads them back through :func:`pp_viewer.state.current`.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from pixel_patrol_base.errors import ViewOptionError
from pixel_patrol_base.viewing import widgets as pw
from pixel_patrol_base.viewing.filters import coerce_filter_value
from pixel_patrol_base.viewing.widgets.query import group_choices, group_count_sql

from . import data
from . import state as ss
from .text import literal

_EXPORT = "pp_export"
_EXPORT_FOR = "pp_export_for"


def _filter_builder(columns: Mapping[str, str]) -> None:
    st.subheader("Filters")
    filters: list[pw.Filter] = st.session_state[ss.FILTERS]
    for i, item in enumerate(filters):
        left, right = st.columns([5, 1])
        left.text(f"{item.column} {item.op} {item.value}")
        if right.button("✕", key=f"pp_filter_remove_{i}", help="remove this filter"):
            st.session_state[ss.FILTERS] = filters[:i] + filters[i + 1 :]
            st.rerun()
    with st.form("pp_filter_form", clear_on_submit=True, border=False):
        column = st.selectbox("Column", list(columns), key="pp_filter_col")
        op = st.selectbox("Operator", pw.FILTER_OPS, key="pp_filter_op")
        value = st.text_input("Value (comma-separated for 'in')", key="pp_filter_val")
        if st.form_submit_button("Add filter"):
            try:
                parsed = coerce_filter_value(column, columns[column], op, value)
            except ViewOptionError as exc:
                st.error(literal(str(exc)))
            else:
                st.session_state[ss.FILTERS] = [*filters, pw.Filter(column, op, parsed)]
                st.rerun()


def _dimensions(report: str, columns: Mapping[str, str]) -> None:
    present = [a for a in ss.AXES if f"dim_{a.lower()}" in columns]
    if not present:
        return
    st.subheader("Dimensions")
    cells = [cell for _ in range(0, len(present), 2) for cell in st.columns(2)]
    for cell, axis in zip(cells, present, strict=False):
        column = f"dim_{axis.lower()}"
        found = data.query(
            report,
            f'SELECT DISTINCT "{column}" FROM {data.TABLE} WHERE "{column}" IS NOT NULL '
            f"ORDER BY 1 LIMIT 1000",
            (),
        )
        options: list[object] = [ss.ALL, *found.column(0).to_pylist()]
        chosen = st.session_state.get(ss.dim_key(axis))
        if chosen not in options:
            st.session_state[ss.dim_key(axis)] = ss.ALL
            st.session_state[ss.NOTICES] = [
                *st.session_state.get(ss.NOTICES, []),
                f"ignored the bookmark parameter dim={axis}:{chosen}: the report has no "
                f"{axis} index {chosen}",
            ]
        cell.selectbox(f"{axis} index", options, key=ss.dim_key(axis), disabled=len(options) == 1)


def _widget_toggles(loaded: Mapping[str, pw.Widget]) -> None:
    with st.expander("Widgets", expanded=False):
        for widget_id, widget in loaded.items():
            st.checkbox(f"{widget.title} ({widget_id})", key=ss.show_key(widget_id))


def _export(report: str, current: pw.ViewState) -> None:
    st.subheader("Export")
    fmt = st.radio("Format", ("Parquet", "CSV"), horizontal=True, key="pp_export_fmt")
    rows_state = repr((current.filters, sorted(current.dims.items()), fmt))
    prepared = st.session_state.get(_EXPORT)
    if prepared is not None and st.session_state.get(_EXPORT_FOR) != rows_state:
        prepared = st.session_state[_EXPORT] = None  # the filters changed since
    if st.button("Prepare export of the filtered rows", key="pp_export_prepare"):
        rows = data.filtered_rows(report, current)
        prepared = (fmt, rows.num_rows, data.export_bytes(rows, fmt.lower()))
        st.session_state[_EXPORT] = prepared
        st.session_state[_EXPORT_FOR] = rows_state
    if prepared is not None:
        kind, count, payload = prepared
        st.download_button(
            f"Download {count} rows ({kind})",
            payload,
            file_name=f"pixel_patrol_filtered.{kind.lower()}",
            mime="application/vnd.apache.parquet" if kind == "Parquet" else "text/csv",
            key="pp_export_download",
            on_click="ignore",
        )


def _group_choices(report: str, columns: Mapping[str, str]) -> list[list[str]]:
    """[column, label] the group-by list offers (:func:`~pixel_patrol_base.viewing.widgets.
    query.group_choices`), the integer columns' distinct counts from the cached query."""
    sql = group_count_sql(columns)
    counts = {} if sql is None else data.query(report, sql, ()).to_pylist()[0]
    return group_choices(columns, counts)


def draw(report: str, columns: Mapping[str, str], loaded: Mapping[str, pw.Widget]) -> None:
    """Draw the whole sidebar into ``st.sidebar``."""
    with st.sidebar:
        st.radio("View", ss.MODES, key=ss.MODE, horizontal=True, on_change=ss.close_image)
        labels = dict(_group_choices(report, columns))
        current = st.session_state.get(ss.GROUP)
        if current not in labels and current in pw.group_options(columns):
            labels[current] = current  # asked for by name (bookmark, --group-by): kept
        if st.session_state.get(ss.GROUP) not in labels:
            st.session_state[ss.GROUP] = None
        st.selectbox(
            "Group by",
            list(labels),
            key=ss.GROUP,
            index=None,
            placeholder="(no grouping)",
            format_func=lambda name: labels.get(name, name),
        )
        _filter_builder(columns)
        _dimensions(report, columns)
        st.subheader("Display")
        st.toggle("Significance (Mann-Whitney U)", key=ss.SIGNIFICANCE)
        st.selectbox("Palette", list(pw.PALETTES), key=ss.PALETTE)
        _widget_toggles(loaded)
        _export(report, ss.current(loaded))
