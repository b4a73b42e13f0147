"""The static viewer in a real headless Chromium, with every outside request blocked.

One browser for the module. The single file is opened from ``file://`` and given the
real-pipeline report through its file input; every declaration's rows from duckdb-wasm
are compared with Python DuckDB's for the same state, before and after a group change.
Then the site folder over a real ``http.server`` with ``?data=``, a file with an embedded
table, and a table whose file name is HTML. The pages are built from the test bundle
(conftest ``with_test_hook``), the only one with the ``window.__viewer`` hook.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from browser_helpers import (
    open_guarded,
    page_widget_ids,
    rows_match,
    screenshot,
    wait_rendered,
    widget_states,
)

from pixel_patrol_base.viewing import widgets as pw
from pixel_patrol_base.viewing.static import build_viewer

pytestmark = pytest.mark.browser

VECTORS = Path(__file__).parents[1] / "widgets" / "sql_vectors.json"
XSS_NAME = "<img src=x onerror=alert(1)>.tif"


@pytest.fixture(scope="module", autouse=True)
def _hooked(with_test_hook: Path) -> Path:
    """Every page of this module is built with the test hook."""
    return with_test_hook


@pytest.fixture(scope="module")
def single_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The single-file viewer without data."""
    return build_viewer(tmp_path_factory.mktemp("static") / "viewer.html")


@pytest.fixture(scope="module")
def loaded(browser: Any, single_file: Path, pipeline_report: Path) -> Iterator[Any]:
    """The single file from file://, with the pipeline report loaded through the file input."""
    guarded = open_guarded(browser)
    guarded.page.goto(single_file.as_uri())
    guarded.page.wait_for_function("window.__viewer !== undefined", timeout=120_000)
    guarded.page.evaluate("window.__viewer.ready")
    guarded.page.set_input_files("#pp-file", str(pipeline_report))
    wait_rendered(guarded.page)
    assert guarded.page.evaluate("window.__viewer.state.mode") == "issues"
    guarded.page.evaluate("window.__viewer.setState({mode: 'overview'})")
    yield guarded
    guarded.check()
    guarded.page.close()


def python_connection(report: Path) -> duckdb.DuckDBPyConnection:
    """Python DuckDB over the report as the Streamlit app opens it (time zone UTC)."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE VIEW pp_data AS SELECT * FROM read_parquet('{report}')")
    pw.prepare_widgets(con, pw.load_widgets().values(), pw.table_columns(con))
    return con


def compare_all_widgets(page: Any, report: Path) -> dict[str, dict[str, Any]]:
    """Every widget's queries: the page's compiled SQL and rows equal Python's."""
    con = python_connection(report)
    columns = pw.table_columns(con)
    js_state = page.evaluate("window.__viewer.state")
    state = pw.ViewState(
        group_col=js_state["group_col"],
        filters=tuple(pw.Filter(f["column"], f["op"], f["value"]) for f in js_state["filters"]),
        dims=js_state["dims"],
    )
    compiled = page.evaluate("window.__viewer.compiled")
    results: dict[str, dict[str, Any]] = {}
    page_name = "issues" if js_state["mode"] == "issues" else "report"
    for widget in pw.load_widgets().values():
        if pw.missing_columns(widget, columns) or widget.page != page_name:
            assert widget.id not in compiled
            continue
        python = pw.run_widget(con, widget, state, columns)
        expected = pw.compile_widget(widget, state, columns)
        results[widget.id] = {}
        for name, (sql, params) in expected.items():
            js = compiled[widget.id][name]
            assert (js["sql"], js["params"]) == (sql, params), (widget.id, name)
            rows = page.evaluate("([s, p]) => window.__viewer.sql(s, p)", [sql, params])
            assert rows_match(python.data[name].to_pylist(), rows), (widget.id, name, rows[:3])
            results[widget.id][name] = rows
    return results


def test_every_widget_renders_from_the_file_input(loaded: Any) -> None:
    page = loaded.page
    states = widget_states(page)
    assert list(states) == page_widget_ids(page)
    assert set(states.values()) == {"rendered"}, states
    for widget_id in states:
        card = page.locator(f'section[data-widget="{widget_id}"]')
        assert card.locator(".pp-summary, svg").count() > 0, widget_id
    screenshot(page, "overview")
    page.evaluate("window.__viewer.setState({mode: 'full'})")
    states = widget_states(page)
    assert set(states.values()) == {"rendered"}, states
    for widget_id in states:
        card = page.locator(f'section[data-widget="{widget_id}"]')
        assert card.locator("svg, .pp-kpi, table, img").count() > 0, widget_id
    assert page.locator(".pp-widget svg.marks").count() >= 10
    screenshot(page, "full")


def test_rows_equal_python_duckdb_for_every_declaration(loaded: Any, pipeline_report: Path) -> None:
    page = loaded.page
    assert page.evaluate("window.__viewer.state.group_col") == "imported_path_short"
    results = compare_all_widgets(page, pipeline_report)
    assert set(results) == set(page_widget_ids(page))
    summary = results["summary"]["by_group"]
    assert sorted(r["group"] for r in summary) == ["control", "treated"]


def test_group_change_gives_the_same_data_in_both_runtimes(
    loaded: Any, pipeline_report: Path
) -> None:
    page = loaded.page
    before = page.evaluate("window.__viewer.compiled")["summary"]["by_group"]
    page.evaluate("window.__viewer.setGroup('file_extension')")
    after = page.evaluate("window.__viewer.compiled")["summary"]["by_group"]
    assert '"file_extension"' in after["sql"] and after["sql"] != before["sql"]
    results = compare_all_widgets(page, pipeline_report)
    groups = {r["group"] for r in results["summary"]["by_group"]}
    assert {"tif", "png"} <= groups
    screenshot(page, "grouped_by_extension")
    page.evaluate("window.__viewer.setState({mode: 'overview', group_col: 'imported_path_short'})")


def test_filter_and_dimension_give_the_same_data_in_both_runtimes(
    loaded: Any, pipeline_report: Path
) -> None:
    page = loaded.page
    page.evaluate(
        "window.__viewer.setState({dims: {Z: 1}, filters: [{column: 'file_extension', "
        "op: 'in', value: 'tif, ome.tif'}, {column: 'path', op: 'not_contains', value: 'well'}]})"
    )
    sql = page.evaluate("window.__viewer.compiled")["histogram"]
    assert any('"dim_z" = ?' in q["sql"] and "NOT contains" in q["sql"] for q in sql.values())
    results = compare_all_widgets(page, pipeline_report)
    assert results["summary"]["kpis"][0]["files"] > 0
    page.evaluate("window.__viewer.setState({dims: {}, filters: []})")


def test_javascript_compiler_reproduces_the_vectors(loaded: Any) -> None:
    vectors = json.loads(VECTORS.read_text("utf-8"))
    outcomes = loaded.page.evaluate(
        """([columns, cases]) => cases.map((c) => {
            const state = {group_col: c.state.group_col, dims: c.state.dims,
              filters: c.state.filters.map(([column, op, value]) => ({column, op, value}))};
            const controls = Object.fromEntries(Object.entries(c.controls).map(([k, v]) =>
              [k, v !== null && typeof v === 'object' && 'ident' in v
                ? new window.__viewer.Ident(v.ident) : v]));
            try {
              const [sql, params] = window.__viewer.compile(c.template, state, columns, controls);
              return {sql, params};
            } catch (error) { return {error: error.name}; }
        })""",
        [vectors["columns"], vectors["cases"]],
    )
    assert len(outcomes) == len(vectors["cases"]) > 10
    for case, outcome in zip(vectors["cases"], outcomes, strict=True):
        assert outcome == case["expected"], case["name"]


def test_palettes_match_python(loaded: Any) -> None:
    palettes = loaded.page.evaluate("window.__viewer.palettes")
    assert palettes == {name: list(colors) for name, colors in pw.PALETTES.items()}


def _css_rgb(color: str) -> str:
    text = color.lstrip("#")
    return f"rgb({int(text[0:2], 16)}, {int(text[2:4], 16)}, {int(text[4:6], 16)})"


def test_mosaic_colours_groups_as_the_charts_do(loaded: Any) -> None:
    page = loaded.page
    page.evaluate("window.__viewer.setState({mode: 'full', palette: 'dark2'})")
    legend = page.evaluate(
        """[...document.querySelectorAll('section[data-widget="mosaic"] .pp-legend-item')]
            .map(e => [e.textContent,
                       getComputedStyle(e.querySelector('.pp-swatch')).backgroundColor])"""
    )
    page.evaluate("window.__viewer.setState({mode: 'overview', palette: null})")
    names = [name for name, _ in legend]
    assert names == ["control", "treated"]  # sorted, as Vega-Lite orders the colour domain
    dark2 = pw.PALETTES["dark2"]
    assert [colour for _, colour in legend] == [_css_rgb(dark2[0]), _css_rgb(dark2[1])]


def test_csv_export_holds_the_filtered_rows(loaded: Any, pipeline_report: Path) -> None:
    page = loaded.page
    page.evaluate(
        "window.__viewer.setState({filters: [{column: 'file_extension', op: 'eq', value: 'png'}]})"
    )
    csv = page.evaluate("window.__viewer.exportCsv()")
    page.evaluate("window.__viewer.setState({filters: []})")
    lines = csv.strip().split("\n")
    ((expected,),) = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{pipeline_report}') WHERE file_extension = 'png'"
    ).fetchall()
    assert len(lines) - 1 == expected > 0
    assert lines[0].split(",")[0] == "path"
    assert all(".png" in line for line in lines[1:])


@pytest.fixture
def site(tmp_path: Path, pipeline_report: Path) -> Iterator[str]:
    """The site folder served by a real http.server on 127.0.0.1 (its base URL)."""
    folder = build_viewer(tmp_path / "site")
    (folder / "report.parquet").write_bytes(pipeline_report.read_bytes())
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""


def test_site_folder_over_http_with_data_parameter(browser: Any, site: str) -> None:
    guarded = open_guarded(browser, allowed=(site,))
    guarded.page.goto(site + "index.html?data=report.parquet")
    wait_rendered(guarded.page)
    states = widget_states(guarded.page)
    assert list(states) == page_widget_ids(guarded.page)
    assert set(states.values()) == {"rendered"}, states
    screenshot(guarded.page, "site_folder")
    guarded.check()
    guarded.page.close()


def test_single_file_with_embedded_table(
    browser: Any, tmp_path: Path, pipeline_report: Path
) -> None:
    output = build_viewer(tmp_path / "report.html", data=pipeline_report)
    guarded = open_guarded(browser)
    guarded.page.goto(output.as_uri())
    wait_rendered(guarded.page)
    assert set(widget_states(guarded.page).values()) == {"rendered"}
    header = guarded.page.locator("#pp-header").inner_text()
    assert "example" in header and "Example dataset for the viewer tests" in header
    guarded.check()
    guarded.page.close()


def _html_named_table(source: Path, target: Path) -> None:
    """A copy of ``source`` (footer kept) whose first file is named like markup."""
    table = pq.read_table(source)
    first = table.column("path")[0].as_py()
    paths = [XSS_NAME if p == first else p for p in table.column("path").to_pylist()]
    names = [
        XSS_NAME if p == XSS_NAME else n
        for p, n in zip(paths, table.column("name").to_pylist(), strict=True)
    ]
    table = table.set_column(
        table.schema.get_field_index("path"),
        table.schema.field("path"),
        pa.array(paths, table.schema.field("path").type),
    )
    table = table.set_column(
        table.schema.get_field_index("name"),
        table.schema.field("name"),
        pa.array(names, table.schema.field("name").type),
    )
    footer = pq.read_metadata(source).metadata
    pq.write_table(table.replace_schema_metadata(footer), target)


def test_file_names_with_markup_are_shown_as_text(
    browser: Any, tmp_path: Path, pipeline_report: Path
) -> None:
    report = tmp_path / "xss.parquet"
    _html_named_table(pipeline_report, report)
    output = build_viewer(tmp_path / "xss.html", data=report)
    guarded = open_guarded(browser)
    guarded.page.goto(output.as_uri())
    wait_rendered(guarded.page)
    page = guarded.page
    page.evaluate("window.__viewer.setState({mode: 'full'})")
    page.wait_for_timeout(500)
    assert XSS_NAME in page.locator('section[data-widget="image-table"]').inner_text()
    assert page.locator('img[src="x"]').count() == 0
    found = page.evaluate(
        "([n]) => window.__viewer.sql('SELECT count(*) AS n FROM pp_data WHERE path = ?', [n])",
        [XSS_NAME],
    )
    assert found[0]["n"] >= 1
    guarded.check()
    page.close()
