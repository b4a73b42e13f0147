"""One renderer per declaration kind (chart, kpi, table, mosaic), plus the Overview tile.

A widget's queries are compiled with :func:`pixel_patrol_base.viewing.widgets.compile_sql` and run
through the cached :func:`pp_viewer.data.query`; charts get the results as named Vega-Lite
datasets (:func:`~pixel_patrol_base.viewing.widgets.chart_spec`) and are drawn with
``st.vega_lite_chart(spec, theme=None, width="content")``. Texts (numbers, the summary
line, KPI cards, badges, notes) come from :mod:`pixel_patrol_base.viewing.widgets.formats`,
which the static viewer mirrors (``tests/widgets/render_vectors.json``).
A widget whose columns are missing is replaced by a note naming them. A table or mosaic
view with ``open_image`` gets a picker of its rows' images that opens the single-image
view. Text from the table is only ever shown through text elements (``st.text``,
``st.dataframe``), or through :func:`pp_viewer.text.literal` where an element renders
Markdown (captions, metrics).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from pixel_patrol_base.errors import WidgetStateError
from pixel_patrol_base.viewing import widgets as pw
from pixel_patrol_base.viewing.widgets.formats import MISSING
from pixel_patrol_base.viewing.widgets.model import ImageRef
from pixel_patrol_base.viewing.widgets.palettes import GROUP_DOMAIN_SQL, apply_palette, group_domain

from . import data, significance
from . import state as ss
from .mosaic import compose
from .text import literal

PREFETCH_THREADS = 4
CUSTOM_PLOT = "custom-plot"
KPIS_PER_LINE = 6


def results(
    report: str,
    columns: Mapping[str, str],
    widget: pw.Widget,
    current: pw.ViewState,
    pending: Pending | None = None,
) -> pw.WidgetResult:
    """Every query of ``widget`` for ``current``, by query name (cached per SQL + params)."""
    if pending is not None and widget.id in pending:
        return pw.WidgetResult(widget.id, pending[widget.id].result(), None)
    return pw.WidgetResult(widget.id, _run_queries(report, columns, widget, current), None)


Pending = Mapping[str, "Future[dict[str, pa.Table]]"]
"""Widget id -> the future of its query results (see :func:`prefetch`)."""


def _run_queries(
    report: str, columns: Mapping[str, str], widget: pw.Widget, current: pw.ViewState
) -> dict[str, pa.Table]:
    if widget.prepare:  # none on the Issues page: its first draw asks for nothing more
        data.prepared(report, widget.id, widget)
    compiled = pw.compile_widget(widget, current, columns)
    return {
        name: data.query(report, sql, tuple(params)) for name, (sql, params) in compiled.items()
    }


def prefetch(
    pool: ThreadPoolExecutor,
    report: str,
    columns: Mapping[str, str],
    widgets: Sequence[pw.Widget],
    current: pw.ViewState,
) -> Pending:
    """Start the queries of every shown widget on ``pool``, in page order.

    DuckDB releases the GIL, so the widgets' queries overlap while the page renders;
    each widget waits only for its own results.
    """
    ctx = get_script_run_ctx()

    def job(widget: pw.Widget) -> dict[str, pa.Table]:
        add_script_run_ctx(threading.current_thread(), ctx)
        return _run_queries(report, columns, widget, current)

    return {w.id: pool.submit(job, w) for w in widgets if not pw.missing_columns(w, columns)}


def _title(widget: pw.Widget, small: bool = False) -> None:
    if small:
        st.markdown(f"**{literal(widget.title)}** :gray-badge[{widget.badge}]")
    else:
        st.subheader(widget.title, anchor=False)
        st.badge(pw.badge_text(widget.badge), color="gray")
        if widget.description:
            st.caption(literal(widget.description))


def _hidden(columns: Mapping[str, str], widget: pw.Widget) -> bool:
    missing = pw.missing_columns(widget, columns)
    if missing:
        st.info(pw.hidden_note(widget.title, missing))
    return bool(missing)


def _controls(columns: Mapping[str, str], widget: pw.Widget) -> None:
    if not widget.controls:
        return
    cells = st.columns(len(widget.controls))
    for cell, control in zip(cells, widget.controls, strict=True):
        key = ss.control_key(widget.id, control.id)
        label = control.label or control.id
        kind = control.type
        if kind == "toggle":
            cell.toggle(label, key=key)
        elif kind == "number":
            _number_input(cell, control, label, key)
        else:
            if control.options:
                options = list(control.options)
            else:
                options = list(columns) if kind == "column" else []
            if st.session_state.get(key) not in options:
                st.session_state[key] = options[0] if options else None
            cell.selectbox(label, options, key=key)


def _number_input(cell: Any, control: pw.Control, label: str, key: str) -> None:
    """A number control, bounded as :func:`~pixel_patrol_base.viewing.bookmark.check_control`
    bounds bookmarked values (whole / not negative when the default is)."""
    default = control.default
    whole = isinstance(default, int) and not isinstance(default, bool)
    low = None
    if isinstance(default, (int, float)) and default >= 0:
        low = 0 if whole else 0.0
    cell.number_input(label, key=key, step=1 if whole else None, min_value=low)


def _group_domain(report: str, columns: Mapping[str, str], current: pw.ViewState) -> list[str]:
    """The report's sorted group domain, which every chart's colour scale and the mosaic get."""
    sql, params = pw.compile_sql(GROUP_DOMAIN_SQL, current, columns, {})
    return group_domain(data.query(report, sql, tuple(params)).column("group").to_pylist())


def _views(
    widget: pw.Widget,
    result: pw.WidgetResult,
    current: pw.ViewState,
    columns: Mapping[str, str],
    domain: list[str] | None = None,
) -> None:
    tables = result.data
    values = pw.resolve_controls(widget, current, columns)
    for i, view in enumerate(widget.specs):
        if not pw.view_visible(view, result, values):
            continue
        if view.get("title"):
            st.caption(literal(str(view["title"])))
        kind = view["type"]
        table = tables[view["query"]]
        if kind == "vega-lite":
            spec = apply_palette(
                pw.chart_spec(view["spec"], tables, current.palette), current.palette, domain
            )
            st.vega_lite_chart(spec, theme=None, width="content", key=f"pp_chart_{widget.id}_{i}")
        elif kind == "kpi":
            _kpi(table, view)
        elif kind == "table":
            _table(table, view)
        elif kind == "mosaic":
            _mosaic(table, view, current, domain)
        if view.get("open_image") and kind in ("table", "mosaic"):
            _image_picker(widget, i, table, view["open_image"])
    if current.is_show_significance:
        significance.draw(widget, result)


def _kpi(table: pa.Table, view: Mapping[str, Any]) -> None:
    """One metric per KPI card (:func:`~pixel_patrol_base.viewing.widgets.kpi_cards`)."""
    cards = pw.kpi_cards(view, table.slice(0, 1).to_pylist())
    if not cards:
        st.text("No rows.")
        return
    for start in range(0, len(cards), KPIS_PER_LINE):
        chunk = cards[start : start + KPIS_PER_LINE]
        for cell, (label, value) in zip(st.columns(KPIS_PER_LINE), chunk, strict=False):
            cell.metric(literal(label), literal(value))


def _data_url(blob: bytes | None) -> str | None:
    return None if blob is None else "data:image/png;base64," + base64.b64encode(blob).decode()


def _table(table: pa.Table, view: Mapping[str, Any]) -> None:
    """A sortable, searchable table of the declared columns; images shown as images."""
    declared = view.get("columns") or [{"column": n} for n in table.column_names]
    declared = [c for c in declared if c["column"] in table.column_names]
    frame = table.select([c["column"] for c in declared])
    config: dict[str, Any] = {}
    for i, item in enumerate(declared):
        name, fmt = item["column"], item.get("format")
        label = item.get("label") or " "
        field = frame.schema.field(i)
        is_blob = pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type)
        if fmt == "image" or is_blob:
            urls = [_data_url(b) for b in frame.column(i).to_pylist()]
            frame = frame.set_column(i, name, pa.array(urls, pa.string()))
            config[name] = st.column_config.ImageColumn(label)
        elif fmt == "bytes":
            config[name] = st.column_config.NumberColumn(f"{label} (bytes)", format="localized")
        elif pa.types.is_nested(field.type):
            texts = [MISSING if v is None else str(v) for v in frame.column(i).to_pylist()]
            frame = frame.set_column(i, name, pa.array(texts, pa.string()))
            config[name] = st.column_config.TextColumn(label)
        elif pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            # a missing text shows as the static viewer's dash, not as "None"
            frame = frame.set_column(i, name, pc.fill_null(frame.column(i), MISSING))
            config[name] = st.column_config.TextColumn(label)
        else:
            config[name] = st.column_config.Column(label)
    height: Any = "auto" if table.num_rows <= 12 else 420
    st.dataframe(frame, column_config=config, hide_index=True, width="stretch", height=height)


def _image_picker(widget: pw.Widget, index: int, table: pa.Table, spec: Mapping[str, Any]) -> None:
    """A view's ``open_image``: a picker of the rows' images; choosing one opens its view.

    ``spec["path"]`` and ``spec.get("child_id")`` name the result columns that key the
    image (an empty child id is none, as the Images table shows it).
    """
    path_col, child_col = spec["path"], spec.get("child_id")
    if path_col not in table.column_names or table.num_rows == 0:
        return
    paths = table.column(path_col).to_pylist()
    has_child = child_col in table.column_names
    children = table.column(child_col).to_pylist() if has_child else [None] * len(paths)
    images: dict[str, ImageRef] = {}
    for path, child in zip(paths, children, strict=True):
        if path is None:
            continue
        ref = ImageRef(str(path), str(child) if child not in (None, "") else None)
        images.setdefault(path if ref.child_id is None else f"{path} [{child}]", ref)
    key = f"pp_open__{widget.id}__{index}"
    ss.register_opener(key, images)
    st.selectbox(
        str(spec.get("label") or "Open an image"),
        list(images),
        index=None,
        key=key,
        placeholder="choose an image to open its view",
        on_change=ss.open_chosen,
        args=(key,),
    )


def _mosaic(
    table: pa.Table, view: Mapping[str, Any], current: pw.ViewState, domain: list[str] | None
) -> None:
    image, legend = compose(
        table,
        current.palette,
        image=view.get("image", "thumbnail"),
        color=view.get("color", "group"),
        domain=domain,
    )
    if image is None:
        st.text("No thumbnails in the selected rows.")
        return
    st.image(image, caption=f"{table.num_rows} images", clamp=True)
    _legend(legend)


def _legend(legend: pa.Table) -> None:
    """The mosaic's colour legend: a coloured swatch beside each group name (as text)."""
    frame = legend.select(["colour", "group"]).to_pandas()
    frame["colour"] = ""
    colours = legend.column("colour").to_pylist()
    styled = frame.style.apply(
        lambda col: (
            [f"background-color: {c}" for c in colours] if col.name == "colour" else [""] * len(col)
        )
    )
    config: dict[str, Any] = {
        "colour": st.column_config.TextColumn(" ", width="small"),
        "group": "group",
    }
    st.dataframe(styled, hide_index=True, column_config=config)


def widget(
    report: str,
    columns: Mapping[str, str],
    widget: pw.Widget,
    current: pw.ViewState,
    pending: Pending | None = None,
) -> None:
    """A widget at full size: title, badge, controls, content."""
    _title(widget)
    if _hidden(columns, widget):
        return
    _controls(columns, widget)
    result = results(report, columns, widget, current, pending)
    _views(widget, result, current, columns, _group_domain(report, columns, current))
    if widget.id == CUSTOM_PLOT:
        _export_declaration(widget, current)


def _export_declaration(widget: pw.Widget, current: pw.ViewState) -> None:
    """Download the custom plot's current settings as a widget declaration file."""
    with st.expander("Export as a widget declaration"):
        new_id = st.text_input("New widget id", value="custom-my-plot", key="pp_custom_id")
        title = st.text_input("Title", value="My plot", key="pp_custom_title")
        try:
            declaration = pw.export_custom_plot(widget, current, new_id, title)
        except WidgetStateError as exc:
            st.error(str(exc))
            return
        st.download_button(
            "Download declaration (.json)",
            json.dumps(declaration, indent=2) + "\n",
            file_name=f"{new_id}.json",
            mime="application/json",
            key="pp_custom_download",
            on_click="ignore",
        )
        st.caption(
            f"Save the file in a folder named by the environment variable "
            f"{pw.USER_DIRS_ENV} (or in an extension package's widget folder, see "
            "docs/widgets.md); the viewers then load it like any other widget."
        )


def tile(
    report: str,
    columns: Mapping[str, str],
    widget: pw.Widget,
    current: pw.ViewState,
    pending: Pending | None = None,
) -> None:
    """A compact Overview tile: title, badge, one-line summary, small chart."""
    _title(widget, small=True)
    if _hidden(columns, widget):
        return
    overview = widget.overview
    if not overview:
        st.caption(literal(widget.description))
        return
    tables = results(report, columns, widget, current, pending).data
    table = tables[overview["query"]]
    template = overview.get("text")
    if template:
        controls = pw.resolve_controls(widget, current, columns)
        summary = pw.overview_text(str(template), table.slice(0, 1).to_pylist(), controls)
        if summary is not None:
            st.text(summary)
    spec = overview.get("spec")
    if spec:
        domain = _group_domain(report, columns, current)
        chart = apply_palette(pw.tile_spec(spec, tables, current.palette), current.palette, domain)
        st.vega_lite_chart(chart, theme=None, width="content", key=f"pp_tile_{widget.id}")
