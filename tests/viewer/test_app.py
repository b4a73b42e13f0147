"""The Streamlit app under AppTest, on the table the real pipeline wrote.

Every widget renders without an exception in both view modes, and each sidebar
interaction (group, filter, dimension, exclude, significance, export) changes what the
app shows and the URL; the exported bytes equal the rows polars selects independently.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from streamlit.testing.v1 import AppTest

from pixel_patrol_base import resources
from pixel_patrol_base.viewing.widgets import load_widgets

APP = resources.viewer_dir() / "app.py"


def _app(
    monkeypatch: pytest.MonkeyPatch, report: Path, query: dict[str, Any] | None = None
) -> AppTest:
    monkeypatch.setattr(sys, "argv", ["app.py", "--report", str(report), "--state", ""])
    at = AppTest.from_file(str(APP), default_timeout=180)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _qp(at: AppTest, key: str) -> list[str]:
    value = at.query_params[key]
    return [value] if isinstance(value, str) else list(value)


def _datasets(at: AppTest) -> list[pa.Table]:
    tables = []
    for chart in at.get("vega_lite_chart"):
        for dataset in chart.proto.datasets:
            tables.append(pa.ipc.open_stream(dataset.data.data).read_all())
    return tables


def _groups(at: AppTest) -> set[str]:
    """The values of the ``group`` field across every chart's data."""
    found: set[str] = set()
    for table in _datasets(at):
        if "group" in table.column_names:
            found.update(str(v) for v in table["group"].to_pylist() if v is not None)
    return found


def test_every_widget_renders_in_both_modes(
    monkeypatch: pytest.MonkeyPatch, pipeline_report: Path
) -> None:
    widgets = {k: w for k, w in load_widgets().items() if w.page == "report"}
    full = _app(monkeypatch, pipeline_report, {"mode": "Full"})
    titles = {s.value for s in full.subheader}
    notes = " ".join(i.value for i in full.info)
    for widget in widgets.values():
        assert widget.title in titles, widget.id
    assert "hidden" not in notes, notes  # the pipeline table has every column
    assert len(full.get("vega_lite_chart")) >= 8
    badges = [m.value for m in full.markdown if "one point = one" in m.value]
    assert len(badges) == len(widgets), badges
    assert sum("one point = one image" in b for b in badges) >= 5
    opened = _app(monkeypatch, pipeline_report)
    # a missing text reads as the static viewer's dash, never "None"
    checked = 0
    for table in (df.value for page in (full, opened) for df in page.dataframe):
        for name in table.columns:
            values = [v for v in table[name].tolist() if isinstance(v, str)]
            if values and not values[0].startswith("data:image"):  # images may be empty
                checked += 1
                assert not table[name].isna().any(), (name, table[name].tolist())
    assert checked > 10
    assert opened.session_state["pp_mode"] == "Issues"  # the default page
    assert {s.value for s in opened.subheader} >= {"QC issues", "Failed files", "Duplicates"}
    overview = _app(monkeypatch, pipeline_report, {"mode": "Overview"})
    assert len(overview.get("vega_lite_chart")) >= 5
    assert _qp(overview, "group") == ["imported_path_short"]


def test_group_change_redraws_with_the_new_groups(
    monkeypatch: pytest.MonkeyPatch, pipeline_report: Path
) -> None:
    at = _app(monkeypatch, pipeline_report, {"mode": "Full"})
    before = _groups(at)
    assert before == {"control", "treated"}
    at.selectbox(key="pp_group").set_value("file_extension").run()
    assert not at.exception
    after = _groups(at)
    assert after == {"tif", "ome.tif", "png", "jpg"}
    assert _qp(at, "group") == ["file_extension"]


def test_filter_and_export_hold_exactly_the_filtered_rows(
    monkeypatch: pytest.MonkeyPatch, pipeline_report: Path
) -> None:
    at = _app(monkeypatch, pipeline_report, {"mode": "Full", "group": "file_extension"})
    assert len(_groups(at)) == 4
    at.selectbox(key="pp_filter_col").set_value("file_extension")
    at.selectbox(key="pp_filter_op").set_value("eq")
    at.text_input(key="pp_filter_val").input("png")
    next(b for b in at.button if b.label == "Add filter").click().run()
    assert not at.exception
    assert [(f.column, f.op, f.value) for f in at.session_state["pp_filters"]] == [
        ("file_extension", "eq", "png")
    ]
    assert any("png" in v for v in _qp(at, "filter"))
    assert _groups(at) == {"png"}

    expected = pl.read_parquet(pipeline_report).filter(pl.col("file_extension") == "png")
    for fmt in ("Parquet", "CSV"):
        at.radio(key="pp_export_fmt").set_value(fmt).run()
        next(b for b in at.button if b.key == "pp_export_prepare").click().run()
        kind, count, payload = at.session_state["pp_export"]
        assert kind == fmt and count == expected.height > 0
        if fmt == "Parquet":
            got = pl.from_arrow(pq.read_table(io.BytesIO(payload)))
            assert isinstance(got, pl.DataFrame)
            assert (
                got.sort("path", "obs_level")
                .select("path", "obs_level")
                .equals(expected.sort("path", "obs_level").select("path", "obs_level"))
            )
            assert got.columns == expected.columns
        else:
            got_csv = pl.read_csv(io.BytesIO(payload))
            assert sorted(got_csv["path"].to_list()) == sorted(expected["path"].to_list())


def test_dimension_selection_exclude_and_significance(
    monkeypatch: pytest.MonkeyPatch, pipeline_report: Path
) -> None:
    at = _app(monkeypatch, pipeline_report, {"mode": "Full"})
    at.selectbox(key="pp_dim_Z").set_value(0).run()
    assert not at.exception
    assert _qp(at, "dim") == ["Z:0"]

    widget = load_widgets()["histogram"]
    at.checkbox(key="pp_show__histogram").uncheck().run()
    assert widget.title not in {s.value for s in at.subheader}
    assert _qp(at, "exclude") == ["histogram"]

    charts_before = len(at.get("vega_lite_chart"))
    at.toggle(key="pp_significance").set_value(True).run()
    assert not at.exception
    assert _qp(at, "sig") == ["1"]
    assert len(at.get("vega_lite_chart")) >= charts_before


def test_a_bookmarked_url_restores_the_view(
    monkeypatch: pytest.MonkeyPatch, pipeline_report: Path
) -> None:
    query = {
        "mode": "Full",
        "group": "file_extension",
        "filter": '["size_bytes","gt",0]',
        "exclude": "mosaic",
        "sig": "1",
    }
    at = _app(monkeypatch, pipeline_report, query)
    assert at.selectbox(key="pp_group").value == "file_extension"
    assert at.checkbox(key="pp_show__mosaic").value is False
    assert at.toggle(key="pp_significance").value is True
    assert [f.column for f in at.session_state["pp_filters"]] == ["size_bytes"]


def test_file_names_with_html_are_shown_as_text(
    monkeypatch: pytest.MonkeyPatch, pipeline_report: Path, tmp_path: Path
) -> None:
    hostile = "control/<img src=x onerror=alert(1)>.tif"
    table = pq.read_table(pipeline_report)
    paths = table["path"].to_pylist()
    first = paths[0]
    paths = [hostile if p == first else p for p in paths]
    table = table.set_column(
        table.schema.get_field_index("path"), "path", pa.array(paths, table["path"].type)
    ).replace_schema_metadata(pq.read_metadata(pipeline_report).metadata)
    report = tmp_path / "hostile.parquet"
    pq.write_table(table, report)
    at = _app(monkeypatch, report, {"mode": "Full"})
    shown = [
        df.value for df in at.dataframe if "Path" in df.value.columns or "path" in df.value.columns
    ]
    assert any(hostile in frame.iloc[:, 1].astype(str).tolist() for frame in shown)
    assert not [m.value for m in at.markdown if m.proto.allow_html]
    assert all("onerror" not in m.value for m in at.markdown)
