"""The single-image view in the Streamlit runtime, on a report the real pipeline wrote.

One small report (:func:`browser_support.build_image_report`: a 4-plane, 2-channel stack
whose plane z=2 is blank, and two 2D images) is built once for the module. The image
page's declarations run on Python DuckDB and are compared with plain numpy on the same
pixels; the bookmark's ``image`` / ``child`` parameters are held to the shared vectors the
static viewer's ``bookmark.js`` also runs; the app runs under AppTest (the view, back to
the report, the browser's back button, a bad address, "Open in napari" with and without
napari); and two headless-Chromium tests open the view from the Images table and from
``pixel-patrol view IMAGE.tif`` (any request not to 127.0.0.1 fails them).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import duckdb
import numpy as np
import pytest
from browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    build_image_report,
    free_port,
    image_stack,
    keep_local,
    streamlit_viewer,
)
from streamlit.testing.v1 import AppTest

from pixel_patrol_base import cli, resources
from pixel_patrol_base.errors import WidgetDeclarationError
from pixel_patrol_base.viewing import widgets as pw
from pixel_patrol_base.viewing.bookmark import drop_missing_image, parse_bookmark
from pixel_patrol_base.viewing.quicklook import is_report
from pixel_patrol_base.viewing.widgets.model import ImageRef

APP = resources.viewer_dir() / "app.py"
IMAGE_WIDGETS = ["image-header", "image-qc", "image-slices", "image-histograms", "image-planes"]
SAFETY_VECTORS = Path(__file__).parents[1] / "static_viewer" / "safety_vectors.json"


@pytest.fixture(scope="module")
def image_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stack report, built once for the module."""
    return build_image_report(tmp_path_factory.mktemp("image_report"))


def _run(report: Path, widget_id: str, image: str) -> dict[str, list[dict[str, Any]]]:
    con = duckdb.connect(":memory:")
    con.execute(f"CREATE VIEW pp_data AS SELECT * FROM read_parquet('{report}')")
    state = pw.ViewState(group_col="file_extension", image=ImageRef(image)).image_view()
    result = pw.run_widget(con, pw.load_widgets()[widget_id], state, pw.table_columns(con))
    return {name: table.to_pylist() for name, table in result.data.items()}


def test_the_image_page_widgets_are_declared() -> None:
    widgets = pw.load_widgets()
    assert [w.id for w in widgets.values() if w.page == "image"] == IMAGE_WIDGETS
    opener = {"path": "path", "child_id": "child_id", "label": "Open an image"}
    assert widgets["image-table"].specs[0]["open_image"] == opener
    assert widgets["mosaic"].specs[0]["open_image"] == opener


def test_a_malformed_open_image_is_a_declaration_error(tmp_path: Path) -> None:
    raw = json.loads(json.dumps(pw.load_widgets()["image-table"].declaration))
    raw["specs"][0]["open_image"] = {"child_id": "child_id"}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(WidgetDeclarationError, match="'open_image' must be"):
        pw.load_widget_file(path)


def test_the_image_state_is_the_report_restricted_to_the_image() -> None:
    state = pw.ViewState(group_col="g", filters=(pw.Filter("dtype", "eq", "uint8"),), dims={"Z": 1})
    assert state.image_view() is state
    one = pw.ViewState(group_col="g", dims={"Z": 1}, image=ImageRef("a.czi", "2"))
    shown = one.image_view()
    assert shown.filters == (pw.Filter("path", "eq", "a.czi"), pw.Filter("child_id", "eq", "2"))
    assert shown.dims == {} and shown.group_col == "g"
    params = one.to_query_params()
    assert params["image"] == "a.czi" and params["child"] == "2"
    assert pw.ViewState.from_query_params(params) == one


@pytest.mark.slow
def test_the_image_page_shows_the_stack_as_numpy_sees_it(image_report: Path) -> None:
    stack = image_stack().astype(np.float64)  # Z, C, Y, X
    header = _run(image_report, "image-header", "stack.tif")
    assert [r["path"] for r in header["summary"]] == ["stack.tif"]
    properties = {r["property"]: r["value"] for r in header["properties"]}
    assert properties["dtype"] == "uint16" and properties["format_reader"]
    assert properties["size_z"] == "4" and properties["size_c"] == "2"
    issues = _run(image_report, "image-qc", "stack.tif")["issues"]
    blank = [r for r in issues if r["issue"] == "constant_plane"]
    assert {r["where"] for r in blank} >= {"Z=2", "C=0, Z=2", "C=1, Z=2"}
    assert "this plane holds the single value 7.0" in {r["message"] for r in blank}
    assert all(r["level"] == "warn" for r in blank)
    slices = _run(image_report, "image-slices", "stack.tif")["slices"]
    means = {(r["axis"], r["index"]): r["value"] for r in slices if r["metric"] == "mean_intensity"}
    for z in range(4):
        assert means["Z", z] == pytest.approx(stack[z].mean())
    for c in range(2):
        assert means["C", c] == pytest.approx(stack[:, c].mean())
    assert {r["metric"] for r in slices} >= {"std_intensity", "max_intensity", "snr"}
    bins = _run(image_report, "image-histograms", "stack.tif")["bins"]
    for channel in ("C=0", "C=1"):
        shares = [r["share"] or 0 for r in bins if r["channel"] == channel]
        assert len(shares) == 256 and sum(shares) == pytest.approx(1.0)
    zero = next(r for r in bins if r["channel"] == "C=0" and r["x"] <= 7 < r["x"] + 16)
    assert zero["share"] >= 64 * 64 / stack[:, 0].size  # the blank plane's pixels
    planes = _run(image_report, "image-planes", "stack.tif")["tiles"]
    assert [r["label"] for r in planes] == ["whole image"] and planes[0]["thumbnail"]
    flat = _run(image_report, "image-slices", "flat_0.tif")
    assert flat["slices"] == [] and flat["none"][0]["result"].startswith("The image has no")


def _shared_image_cases() -> list[dict[str, Any]]:
    cases = json.loads(SAFETY_VECTORS.read_text("utf-8"))["cases"]
    return [c for c in cases if c["name"].startswith("image:")]


@pytest.mark.parametrize("case", _shared_image_cases(), ids=lambda c: c["name"])
def test_the_bookmark_image_follows_the_shared_vectors(case: dict[str, Any]) -> None:
    """The cases ``bookmark.js`` runs under node (tests/static_viewer/test_js_vectors.py)."""
    given = case["input"]
    params = parse_qs(given["query"].lstrip("?"), keep_blank_values=True)
    bookmark = parse_bookmark(params, given["columns"], {}, ("Issues", "Overview", "Full"))
    want = case["expected"]["state"].get("image")
    got = bookmark.state.image
    assert (None if got is None else {"path": got.path, "child_id": got.child_id}) == want
    notices = [(n.parameter, n.reason) for n in bookmark.notices]
    expected = [(n["param"].partition("=")[0], n["reason"]) for n in case["expected"]["notices"]]
    assert notices == expected


def test_a_bookmarked_image_the_report_lacks_is_dropped_with_a_notice() -> None:
    bookmark = parse_bookmark({"image": "gone.tif", "group": "x"}, {"path": "VARCHAR"}, {})
    asked: list[tuple[str, list[object]]] = []

    def count(sql: str, params: list[object]) -> int:
        asked.append((sql, params))
        return 0

    dropped = drop_missing_image(bookmark, count)
    assert dropped.state.image is None
    assert [str(n) for n in dropped.notices][-1] == (
        "ignored the bookmark parameter image=gone.tif: the report has no such image"
    )
    assert asked[0][1] == ["gone.tif", None]
    assert drop_missing_image(bookmark, lambda sql, params: 1).state.image == ImageRef("gone.tif")


def _app(monkeypatch: pytest.MonkeyPatch, report: Path, query: dict[str, str]) -> AppTest:
    monkeypatch.setattr(sys, "argv", ["app.py", "--report", str(report), "--state", ""])
    at = AppTest.from_file(str(APP), default_timeout=180)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _subheaders(at: AppTest) -> list[str]:
    return [s.value for s in at.main.subheader]


@pytest.mark.slow
def test_the_app_opens_the_image_goes_back_and_follows_the_browser(
    monkeypatch: pytest.MonkeyPatch, image_report: Path
) -> None:
    at = _app(monkeypatch, image_report, {"mode": "Full"})
    picker = at.selectbox(key="pp_open__image-table__0")
    assert set(picker.options) == {"flat_0.tif", "flat_1.tif", "stack.tif"}
    picker.set_value("stack.tif").run()
    assert not at.exception, at.exception
    assert _subheaders(at)[: len(IMAGE_WIDGETS)] == [
        pw.load_widgets()[w].title for w in IMAGE_WIDGETS
    ]
    assert "Image: stack.tif" in [t.value for t in at.text]
    assert at.query_params["image"] == "stack.tif" and at.query_params["mode"] == "Full"
    assert len(at.get("vega_lite_chart")) >= 2  # the slices and the histograms
    # the browser's back button: Streamlit reruns with the previous address
    at.query_params.pop("image")
    at.run()
    assert "Images" in _subheaders(at) and "Metrics per slice" not in _subheaders(at)
    # forward again, then the page's own button
    at.query_params["image"] = "stack.tif"
    at.run()
    assert "Metrics per slice" in _subheaders(at)
    at.button(key="pp_image_back").click().run()
    assert "Images" in _subheaders(at) and "image" not in at.query_params


def test_a_bad_image_in_the_address_is_a_notice(
    monkeypatch: pytest.MonkeyPatch, image_report: Path
) -> None:
    at = _app(monkeypatch, image_report, {"image": "no/such.tif"})
    assert "ignored the bookmark parameter image=no/such.tif: the report has no such image" in (
        "\n".join(t.value for t in at.text)
    )
    assert "QC issues" in _subheaders(at)  # the Issues page, as without the image


def _fake_napari(folder: Path) -> Path:
    """A package named napari whose ``python -m napari`` writes its argv to a file."""
    package = folder / "napari"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(
        "import json, os, sys\n"
        "with open(os.environ['PP_FAKE_NAPARI_ARGV'], 'w') as f:\n"
        "    json.dump(sys.argv[1:], f)\n"
    )
    return folder


@pytest.mark.slow
def test_open_in_napari_only_where_napari_is_installed(
    monkeypatch: pytest.MonkeyPatch, image_report: Path, tmp_path: Path
) -> None:
    assert importlib.util.find_spec("napari") is None  # never installed here
    at = _app(monkeypatch, image_report, {"image": "stack.tif"})
    assert "Open in napari" not in [b.label for b in at.button]
    fake = _fake_napari(tmp_path / "site")
    argv_file = tmp_path / "argv.json"
    monkeypatch.syspath_prepend(str(fake))
    monkeypatch.setenv("PYTHONPATH", str(fake))
    monkeypatch.setenv("PP_FAKE_NAPARI_ARGV", str(argv_file))
    importlib.invalidate_caches()
    at = _app(monkeypatch, image_report, {"image": "stack.tif"})
    at.button(key="pp_napari").click().run()
    assert not at.exception, at.exception
    deadline = time.monotonic() + 30
    while not argv_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    original = (image_report.parent / "data" / "stack.tif").resolve()
    assert json.loads(argv_file.read_text()) == [str(original)]


def test_view_tells_a_report_from_an_image(tmp_path: Path) -> None:
    assert is_report(tmp_path / "missing.parquet")
    disguised = tmp_path / "report.bin"
    disguised.write_bytes(b"PAR1" + b"\0" * 8)
    assert is_report(disguised)
    image = tmp_path / "a.tif"
    image.write_bytes(b"II*\x00")
    assert not is_report(image)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("missing.tif", "does not exist; pass a report"), ("folder", "is a folder; pass one image")],
)
def test_view_of_a_bad_image_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, expected: str
) -> None:
    (tmp_path / "folder").mkdir()
    status = cli.main(["view", str(tmp_path / name), "--no-browser"])
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], captured.err


def test_view_of_a_file_that_is_no_image_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.tif"
    broken.write_bytes(b"II*\x00not a tiff at all")
    temp = Path(tempfile.gettempdir())
    before = set(temp.glob("pixel-patrol-look-*"))
    status = cli.main(["view", str(broken), "--no-browser", "--port", str(free_port())])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1
    assert "could not be read as an image" in err[0] and "broken.tif" in err[0]
    assert set(temp.glob("pixel-patrol-look-*")) == before  # cleaned up
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.tif"]  # nothing written


# ---- real headless Chromium ----------------------------------------------------------

MAIN = '[data-testid="stMain"]'


def _wait_for_texts(page: Any, words: list[str], timeout: int = 90_000) -> None:
    page.wait_for_function(
        "([sel, words]) => { const t = document.querySelector(sel)?.textContent || '';"
        " return words.every(w => t.includes(w)); }",
        arg=[MAIN, words],
        timeout=timeout,
    )


def _image_view_shown(page: Any) -> None:
    """The image view of stack.tif: its header, its QC issue and its per-slice chart."""
    _wait_for_texts(page, ["Image: stack.tif", "Metrics per slice", "constant_plane", "C=0, Z=2"])
    page.locator(f"{MAIN} [data-testid='stVegaLiteChart'] svg, {MAIN} canvas").first.wait_for(
        timeout=60_000
    )
    text = page.locator(MAIN).text_content() or ""
    assert "this plane holds the single value 7.0" in text
    assert "mean_intensity" in page.locator(MAIN).inner_html()  # the facet of the chart


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_streamlit_opens_the_image_view_from_the_images_table(image_report: Path) -> None:
    from playwright.sync_api import sync_playwright

    external: list[str] = []
    with streamlit_viewer(image_report) as url, sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 2200})
            keep_local(page, external)
            page.goto(url + "?mode=Full")
            picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Open an image")
            picker.first.wait_for(timeout=90_000)
            picker.first.click()
            page.get_by_role("option", name="stack.tif", exact=True).click()
            _image_view_shown(page)
            assert "image=stack.tif" in page.url
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "viewer_image.png"), full_page=True)
            page.go_back()
            _wait_for_texts(page, ["Images", "Open an image"])
            page.wait_for_function("() => !location.search.includes('image=')", timeout=30_000)
        finally:
            browser.close()
    assert external == [], f"requests left the machine: {external}"


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_pixel_patrol_view_image_opens_its_view(image_report: Path) -> None:
    from playwright.sync_api import sync_playwright

    image = image_report.parent / "data" / "stack.tif"
    external: list[str] = []
    with streamlit_viewer(image) as url, sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 2200})
            keep_local(page, external)
            page.goto(url)
            _image_view_shown(page)
            assert "image=stack.tif" in page.url
        finally:
            browser.close()
    assert external == [], f"requests left the machine: {external}"
    assert sorted(p.name for p in image.parent.iterdir()) == [
        "flat_0.tif",
        "flat_1.tif",
        "stack.tif",
    ]
