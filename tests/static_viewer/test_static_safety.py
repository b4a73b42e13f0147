"""The static viewer treats its address and the report's text as untrusted, in real Chromium.

Every page runs under the guard of browser_helpers (any outside request or dialog fails the
test). ``?data=`` naming another origin, from the site folder over HTTP and from the single
file over ``file://``, is fetched only after the user presses the confirm button, which shows
the address: the "other origin" that finally serves the report is a second local HTTP server
on another port, and it records every request. Hostile project name, flavor, description and
file names are shown as text. Crafted bookmark parameters are each dropped with a notice that
names them, and the page renders the rest.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urljoin

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from browser_helpers import (
    GuardedPage,
    Served,
    open_guarded,
    page_notices,
    page_widget_ids,
    serve_folder,
    wait_rendered,
    widget_states,
)

from pixel_patrol_base.table.footer import FOOTER_KEY
from pixel_patrol_base.viewing import widgets as pw
from pixel_patrol_base.viewing.static import build_viewer

pytestmark = pytest.mark.browser

OUTSIDE = [
    "https://other.example/x.parquet",
    "//other.example/x",
    "http://169.254.169.254/latest/meta-data/",
]
HOSTILE_NAME = "<script>alert('name')</script>"
HOSTILE_FLAVOR = "![t](https://other.example/t.png)"
HOSTILE_DESCRIPTION = (
    "<img src=https://other.example/d.png onerror=alert(1)> **bold** [x](javascript:alert(2))"
)
HOSTILE_PATH = "<img src=https://other.example/p.png>![p](https://other.example/q.png).tif"
CRAFTED = [
    ("filter", "notjson"),
    ("filter", '["size_bytes","gt","abc"]'),
    ("dim", "Q:1"),
    ("ctl", "image-table.limit=-1"),
]
MORE_CRAFTED = [
    ("filter", '["size_bytes","eq",[1,2]]'),
    ("filter", '["no_such_column","eq",1]'),
    ("filter", '["size_bytes","between",1]'),
    ("filter", '["size_bytes","gt",1e999]'),
    ("filter", '{"column":"size_bytes"}'),
    ("filter", '["modification_date","gt","not a date"]'),  # dropped by the DuckDB probe
    ("filter", '["obs_level","eq",100000]'),  # SMALLINT: the cast fails on DuckDB
    ("dim", "Z:-1"),
    ("dim", "Z:abc"),
    ("ctl", "image-table.limit"),
    ("ctl", 'image-table.limit="many"'),
    ("ctl", "image-table.nope=1"),
    ("ctl", "no-widget.limit=1"),
    ("group", "no_such_column"),
    ("palette", "<script>alert(3)</script>"),
    ("exclude", "no-widget"),
    ("sig", "maybe"),
    ("mode", "Sideways"),
    ("utm_source", "mail"),
]


@pytest.fixture(scope="module", autouse=True)
def _hooked(with_test_hook: Path) -> Path:
    """Every page of this module is built with the test hook."""
    return with_test_hook


def _hostile_report(source: Path, target: Path) -> None:
    """A copy of ``source`` whose footer texts and first file name are markup."""
    table = pq.read_table(source)
    footer = dict(pq.read_metadata(source).metadata)
    meta = json.loads(footer[FOOTER_KEY])
    meta.update(project_name=HOSTILE_NAME, flavor=HOSTILE_FLAVOR, description=HOSTILE_DESCRIPTION)
    footer[FOOTER_KEY] = json.dumps(meta).encode()
    first = table.column("path")[0].as_py()
    for column in ("path", "name"):
        values = [
            HOSTILE_PATH if p == first else v
            for p, v in zip(
                table.column("path").to_pylist(), table.column(column).to_pylist(), strict=True
            )
        ]
        index = table.schema.get_field_index(column)
        table = table.set_column(
            index, table.schema.field(column), pa.array(values, table.schema.field(column).type)
        )
    pq.write_table(table.replace_schema_metadata(footer), target)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, pipeline_report: Path) -> Iterator[Served]:
    """The site folder (the page's own origin), with the report and a hostile copy."""
    folder = build_viewer(tmp_path_factory.mktemp("safety") / "site")
    shutil.copyfile(pipeline_report, folder / "report.parquet")
    _hostile_report(pipeline_report, folder / "hostile.parquet")
    with serve_folder(folder) as served:
        yield served


@pytest.fixture(scope="module")
def other_site(tmp_path_factory: pytest.TempPathFactory, pipeline_report: Path) -> Iterator[Served]:
    """Another origin (another port, CORS open) that serves the report."""
    folder = tmp_path_factory.mktemp("other_site")
    shutil.copyfile(pipeline_report, folder / "report.parquet")
    with serve_folder(folder, cors=True) as served:
        yield served


@pytest.fixture(scope="module")
def single_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The single-file viewer without data, opened over file://."""
    return build_viewer(tmp_path_factory.mktemp("safety_file") / "viewer.html")


def _page_url(runtime: str, site: Served, single_file: Path) -> str:
    return site.url + "index.html" if runtime == "site" else single_file.as_uri()


def _open(browser: Any, url: str, allowed: tuple[str, ...] = ()) -> GuardedPage:
    """A guarded page at ``url``, once the viewer started (DuckDB up, first table if any)."""
    guarded = open_guarded(browser, allowed=allowed)
    guarded.page.goto(url)
    guarded.page.wait_for_function("window.__viewer !== undefined", timeout=120_000)
    guarded.page.evaluate("window.__viewer.ready")
    return guarded


def _all_rendered(page: Any) -> None:
    states = widget_states(page)
    assert list(states) == page_widget_ids(page)
    assert set(states.values()) == {"rendered"}, states


@pytest.mark.parametrize("runtime", ["site", "file"])
@pytest.mark.parametrize("raw", OUTSIDE)
def test_data_from_another_origin_waits_for_the_user(
    browser: Any, site: Served, single_file: Path, runtime: str, raw: str
) -> None:
    base = _page_url(runtime, site, single_file)
    guarded = _open(browser, f"{base}?data={quote(raw, safe='')}", allowed=(site.url,))
    page = guarded.page
    assert page.locator("#pp-data-url").inner_text() == urljoin(base, raw)
    assert page.locator("#pp-data-confirm").is_visible()
    assert page.evaluate("window.__viewer.app.fileName") is None
    assert page.evaluate("document.body.dataset.renders") is None
    guarded.check()  # nothing was requested from the other origin
    page.click("#pp-data-dismiss")
    assert page.locator("#pp-data-confirm").count() == 0
    assert "Not loaded" in page.locator("#pp-prompt").inner_text()
    guarded.check()
    page.close()


@pytest.mark.parametrize("runtime", ["site", "file"])
def test_data_from_another_origin_loads_after_confirming(
    browser: Any, site: Served, other_site: Served, single_file: Path, runtime: str
) -> None:
    other_site.requested.clear()
    target = other_site.url + "report.parquet"
    base = _page_url(runtime, site, single_file)
    guarded = _open(
        browser, f"{base}?data={quote(target, safe='')}", allowed=(site.url, other_site.url)
    )
    page = guarded.page
    assert page.locator("#pp-data-url").inner_text() == target
    assert other_site.requested == []
    page.click("#pp-data-confirm")
    wait_rendered(page)
    assert other_site.requested == ["/report.parquet"]
    _all_rendered(page)
    assert "table: report.parquet" in page.locator("#pp-header").inner_text()
    assert page.locator("#pp-prompt").is_hidden()
    guarded.check()
    page.close()


def test_same_origin_addresses_load_at_once(browser: Any, site: Served) -> None:
    guarded = _open(
        browser, site.url + "index.html?data=" + quote(site.url + "report.parquet"), (site.url,)
    )
    wait_rendered(guarded.page)
    _all_rendered(guarded.page)
    assert guarded.page.locator("#pp-data-confirm").count() == 0
    guarded.check()
    guarded.page.close()


@pytest.mark.parametrize(
    "raw",
    [
        "javascript:alert(1)",
        "data:application/octet-stream;base64,UEFSMQ==",
        "http://user:pw@127.0.0.1:9/x",
    ],
)
def test_addresses_that_cannot_be_reports_are_refused_with_a_notice(
    browser: Any, single_file: Path, raw: str
) -> None:
    guarded = _open(browser, f"{single_file.as_uri()}?data={quote(raw, safe='')}")
    page = guarded.page
    assert page_notices(page) == [f"data={raw}"]
    assert page.locator("#pp-data-confirm").count() == 0
    assert "Open a PixelPatrol report" in page.locator("#pp-status").inner_text()
    guarded.check()
    page.close()


def test_report_texts_are_shown_as_text(browser: Any, site: Served) -> None:
    guarded = _open(browser, site.url + "index.html?data=hostile.parquet&mode=Full", (site.url,))
    page = guarded.page
    wait_rendered(page)
    header = page.locator("#pp-header")
    assert header.locator("h1").inner_text() == HOSTILE_NAME
    assert f"flavor: {HOSTILE_FLAVOR}" in header.inner_text()
    assert header.locator(".pp-description").inner_text() == HOSTILE_DESCRIPTION
    assert header.locator("img, script, a, strong, em").count() == 0
    assert HOSTILE_PATH in page.locator('section[data-widget="image-table"]').inner_text()
    assert page.locator('[src*="other.example"], [href*="other.example"]').count() == 0
    tooltip = page.evaluate(
        "(p) => window.__viewer.tooltipHtml("
        "{title: '<b>t</b>', image: 'https://other.example/i.png', path: p})",
        HOSTILE_PATH,
    )
    assert "<img" not in tooltip and "<b>" not in tooltip and "&#60;img" in tooltip
    guarded.check()
    page.close()


def _bookmark_url(site: Served, params: list[tuple[str, str]]) -> str:
    return site.url + "index.html?" + urlencode([("data", "report.parquet"), *params])


@pytest.mark.parametrize("param", CRAFTED, ids=[f"{k}={v}" for k, v in CRAFTED])
def test_each_crafted_bookmark_is_dropped_and_the_rest_renders(
    browser: Any, site: Served, param: tuple[str, str]
) -> None:
    valid = [("group", "file_extension"), ("palette", "dark2")]
    guarded = _open(browser, _bookmark_url(site, [param, *valid]), (site.url,))
    page = guarded.page
    wait_rendered(page)
    assert page_notices(page) == [f"{param[0]}={param[1]}"]
    state = page.evaluate("window.__viewer.state")
    assert (state["group_col"], state["palette"]) == ("file_extension", "dark2")
    assert state["filters"] == [] and state["dims"] == {} and state["controls"] == {}
    _all_rendered(page)
    guarded.check()
    page.close()


def test_many_crafted_bookmarks_in_one_address(browser: Any, site: Served) -> None:
    params = [
        *CRAFTED,
        *MORE_CRAFTED,
        ("group", "file_extension"),
        ("mode", "Full"),
        ("dim", "Z:1"),
    ]
    guarded = _open(browser, _bookmark_url(site, params), (site.url,))
    page = guarded.page
    wait_rendered(page)
    # notices from the DuckDB probe (bookmark.js probeBookmark) come after the parsing ones
    assert sorted(page_notices(page)) == sorted(f"{k}={v}" for k, v in [*CRAFTED, *MORE_CRAFTED])
    state = page.evaluate("window.__viewer.state")
    assert (state["group_col"], state["mode"], state["dims"]) == (
        "file_extension",
        "full",
        {"Z": 1},
    )
    assert state["palette"] is None and state["filters"] == [] and state["controls"] == {}
    _all_rendered(page)
    assert page.locator("#pp-notices script, #pp-notices img").count() == 0
    guarded.check()
    page.close()


def test_a_python_bookmark_round_trips_through_the_page(browser: Any, site: Served) -> None:
    state = pw.ViewState(
        group_col="file_extension",
        filters=(
            pw.Filter("size_bytes", "gt", 10),
            pw.Filter("file_extension", "in", ["tif", "png"]),
        ),
        dims={"Z": 0},
        controls={"image-table": {"limit": 3}},
        widgets_excluded=("sunburst",),
        is_show_significance=True,
        palette="set2",
    )
    params = [
        (k, v)
        for k, values in state.to_query_params().items()
        for v in ([values] if isinstance(values, str) else values)
    ]
    guarded = _open(browser, _bookmark_url(site, params), (site.url,))
    page = guarded.page
    wait_rendered(page)
    assert page_notices(page) == []
    js = page.evaluate("window.__viewer.state")
    assert js["group_col"] == state.group_col and js["dims"] == state.dims
    assert [(f["column"], f["op"], f["value"]) for f in js["filters"]] == [
        (f.column, f.op, f.value) for f in state.filters
    ]
    assert js["controls"] == state.controls and js["palette"] == state.palette
    assert (js["widgets_excluded"], js["is_show_significance"]) == (
        list(state.widgets_excluded),
        True,
    )
    search = page.evaluate("window.location.search")
    published = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(search.lstrip("?")).items()}
    assert published.pop("data") == "report.parquet"
    assert pw.ViewState.from_query_params(published) == state
    guarded.check()
    page.close()
