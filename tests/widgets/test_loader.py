"""Finding declarations: entry points, folders, single files, exports and bad files."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pixel_patrol_base import errors
from pixel_patrol_base.viewing import widgets as pw

BUILTIN_IDS = [
    "qc-issues",
    "failed-files",
    "duplicates",
    "qc-examples",
    "qc-rules",
    "summary",
    "image-table",
    "file-stats",
    "sunburst",
    "metadata",
    "dim-size",
    "histogram",
    "mosaic",
    "violin-basic",
    "violin-quality",
    "stats-across-dims-basic",
    "stats-across-dims-quality",
    "custom-plot",
    "image-header",
    "image-qc",
    "image-slices",
    "image-histograms",
    "image-planes",
]


def test_builtins_come_through_the_entry_point(all_widgets: dict[str, pw.Widget]) -> None:
    assert list(all_widgets) == BUILTIN_IDS
    assert {w.source for w in all_widgets.values()} == {
        "pixel_patrol_base.viewing.widgets.builtin:DIRECTORY"
    }
    for widget in all_widgets.values():
        for view in widget.specs:
            if view["type"] == "vega-lite":
                spec = view["spec"]
                assert spec["data"] == {"name": view["query"]}
                assert spec["autosize"] == {"type": "pad", "contains": "padding"}
                assert "vega-lite/v6" in spec["$schema"]


def test_format_widget_list_names_every_widget(all_widgets: dict[str, pw.Widget]) -> None:
    lines = pw.format_widget_list().splitlines()
    assert [line.split()[0] for line in lines] == BUILTIN_IDS
    assert "[slice]" in lines[BUILTIN_IDS.index("stats-across-dims-basic")]


def test_unknown_widget_id_is_typed(all_widgets: dict[str, pw.Widget]) -> None:
    with pytest.raises(errors.UnknownWidgetError, match="known widgets: qc-issues"):
        pw.get_widget(all_widgets, "histogramm")


def _extension_decl(wid: str) -> dict[str, object]:
    return {
        "id": wid,
        "title": "Bytes per group",
        "description": "Sum of file sizes.",
        "badge": "file",
        "kind": "chart",
        "requires": ["size_bytes"],
        "queries": {
            "q": 'SELECT CAST({{group}} AS VARCHAR) AS "group", sum("size_bytes") AS b '
            'FROM pp_data WHERE "obs_level" = 0 AND {{filters}} GROUP BY ALL ORDER BY 1'
        },
        "specs": [{"id": "q", "type": "table", "query": "q", "columns": []}],
    }


def test_directory_extension_loads_and_runs(
    tmp_path: Path, report_con: duckdb.DuckDBPyConnection, columns: dict[str, str]
) -> None:
    (tmp_path / "bytes.json").write_text(json.dumps(_extension_decl("bytes-per-group")))
    (tmp_path / "notes.txt").write_text("ignored")
    found = pw.load_widget_dir(tmp_path, source="my-ext")
    assert list(found) == ["bytes-per-group"]
    widget = found["bytes-per-group"]
    assert widget.source == "my-ext"
    result = pw.run_widget(
        report_con, widget, pw.ViewState(group_col="imported_path_short"), columns
    )
    rows = result.data["q"].to_pylist()
    expected = report_con.execute(
        "SELECT imported_path_short, sum(size_bytes) FROM pp_data WHERE obs_level = 0 "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert [(r["group"], r["b"]) for r in rows] == expected


def test_missing_columns_hide_the_widget(
    tmp_path: Path, report_con: duckdb.DuckDBPyConnection, columns: dict[str, str]
) -> None:
    decl = _extension_decl("needs-more")
    decl["requires"] = ["size_bytes", "defocus_um", "tilt"]
    path = tmp_path / "w.json"
    path.write_text(json.dumps(decl))
    widget = pw.load_widget_file(path)
    assert pw.missing_columns(widget, columns) == ["defocus_um", "tilt"]
    result = pw.run_widget(report_con, widget, pw.ViewState(), columns)
    assert result.data == {}
    assert result.hidden_reason is not None
    assert "defocus_um, tilt" in result.hidden_reason


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"badge": "pixel"}, "badge 'pixel'"),
        ({"queries": {"q": "SELECT {{nope}}"}}, "unknown placeholder"),
        ({"specs": [{"id": "v", "type": "table", "query": "other"}]}, "unknown query"),
        (
            {"controls": [{"id": "where", "type": "toggle", "label": "x", "default": True}]},
            "reserved",
        ),
    ],
)
def test_bad_declaration_names_the_file(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    decl = _extension_decl("bad") | change
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(decl))
    with pytest.raises(errors.WidgetDeclarationError, match=message) as info:
        pw.load_widget_file(path)
    assert str(path) in str(info.value)
    path.write_text("{not json")
    with pytest.raises(errors.WidgetDeclarationError, match="not valid JSON"):
        pw.load_widget_file(path)


def test_custom_plot_export_loads_like_any_widget(
    tmp_path: Path,
    all_widgets: dict[str, pw.Widget],
    report_con: duckdb.DuckDBPyConnection,
    columns: dict[str, str],
) -> None:
    custom = all_widgets["custom-plot"]
    chosen = {"chart": "count", "x": "file_extension", "y": "size_bytes"}
    state = pw.ViewState(group_col="imported_path_short", controls={"custom-plot": chosen})
    path = pw.write_custom_plot(tmp_path / "ext.json", custom, state, "ext-count", "Extensions")
    loaded = pw.load_widget_file(path)
    assert (loaded.id, loaded.title) == ("ext-count", "Extensions")
    # The export's defaults are the chosen values: no state needed to reproduce the plot.
    plain = pw.ViewState(group_col="imported_path_short")
    exported = pw.run_widget(report_con, loaded, plain, columns)
    original = pw.run_widget(report_con, custom, state, columns)
    assert exported.data["agg"].equals(original.data["agg"])
    values = pw.resolve_controls(loaded, plain, columns)
    shown = [v["id"] for v in loaded.specs if pw.view_visible(v, exported, values)]
    assert shown == ["count"]
    with pytest.raises(errors.WidgetStateError):
        pw.export_custom_plot(custom, state, "Bad Id", "x")


def test_exported_plot_in_the_user_folder_is_installed_everywhere(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    all_widgets: dict[str, pw.Widget],
) -> None:
    import subprocess
    import sys

    folder = tmp_path / "my widgets"
    folder.mkdir()
    state = pw.ViewState(controls={"custom-plot": {"chart": "count", "x": "dtype"}})
    pw.write_custom_plot(folder / "dtypes.json", all_widgets["custom-plot"], state, "dtypes", "D")
    monkeypatch.setenv(pw.USER_DIRS_ENV, str(folder))
    ids = list(pw.load_widgets())
    assert ids[: len(BUILTIN_IDS)] == BUILTIN_IDS
    assert ids[-1] == "dtypes"  # after the built-ins and any installed extension
    listing = subprocess.run(
        [sys.executable, "-m", "pixel_patrol_base.cli", "view", "--list-widgets"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "dtypes" in listing.stdout
    monkeypatch.setenv(pw.USER_DIRS_ENV, str(tmp_path / "missing"))
    with pytest.raises(errors.WidgetDeclarationError, match=r"missing.*not a folder"):
        pw.load_widgets()
