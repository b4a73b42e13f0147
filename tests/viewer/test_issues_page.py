"""The Issues page: its widget declarations on a real report, and the Streamlit viewer.

One small report with planted problems (:func:`browser_support.build_issues_report`: a
constant image, a corrupt file, an exact copy) is built once for the module through the
real pipeline. The unit tests run the three declarations with Python DuckDB; the browser
test opens ``pixel-patrol view`` in headless Chromium (any request not to 127.0.0.1 fails
it), checks that the Issues page opens by default, lists the problems, and that a click on
an issue's button filters the whole report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    build_issues_report,
    keep_local,
)
from browser_support import streamlit_viewer as running_viewer

from pixel_patrol_base.errors import WidgetDeclarationError
from pixel_patrol_base.table.footer import read_metadata
from pixel_patrol_base.viewing import widgets as pw

ISSUE_WIDGETS = ["qc-issues", "failed-files", "duplicates", "qc-examples", "qc-rules"]
BUTTONS = '[data-testid="stMain"] [data-testid="stButton"] button'


@pytest.fixture(scope="module")
def issues_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The planted-problem report, built once for the module."""
    return build_issues_report(tmp_path_factory.mktemp("issues_report"))


def _run(report: Path, widget_id: str, state: pw.ViewState) -> dict[str, list[dict[str, Any]]]:
    con = duckdb.connect(":memory:")
    con.execute(f"CREATE VIEW pp_data AS SELECT * FROM read_parquet('{report}')")
    pw.add_qc_tables(con, read_metadata(report).qc)
    columns = pw.table_columns(con)
    result = pw.run_widget(con, pw.load_widgets()[widget_id], state, columns)
    return {name: table.to_pylist() for name, table in result.data.items()}


def test_issue_widgets_are_on_the_issues_page_and_first() -> None:
    widgets = pw.load_widgets()
    assert list(widgets)[: len(ISSUE_WIDGETS)] == ISSUE_WIDGETS
    assert {w.id for w in widgets.values() if w.page == "issues"} == set(ISSUE_WIDGETS)
    assert widgets["summary"].page == "report"  # the default


def test_an_unknown_page_is_a_clear_declaration_error(tmp_path: Path) -> None:
    raw = json.loads(json.dumps(pw.load_widgets()["failed-files"].declaration))
    raw["page"] = "elsewhere"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(WidgetDeclarationError, match="page 'elsewhere' is not one of"):
        pw.load_widget_file(path)


@pytest.mark.slow
def test_the_declarations_find_the_planted_problems(issues_report: Path) -> None:
    state = pw.ViewState(group_col="file_extension")
    issues = {r["issue"]: r for r in _run(issues_report, "qc-issues", state)["issues"]}
    assert {"constant", "unreadable", "duplicate"} <= set(issues)
    assert issues["constant"]["images"] == 1 and issues["constant"]["severity"] == "fail"
    # a warn rule reads warn, also where the image fails another rule
    assert issues["duplicate"]["severity"] == "warn"
    assert issues["duplicate"]["images"] == 2 and issues["duplicate"]["by_group"] == "tif: 2"
    only = pw.ViewState(filters=(pw.Filter("qc_issues", "has", "constant"),))
    assert _run(issues_report, "qc-issues", only)["passed"][0]["result"].startswith("All 1 images")
    # the Images tile counts the images read, as the header does: not the corrupt file
    assert _run(issues_report, "image-table", state)["count"] == [{"images": 6}]
    failed = _run(issues_report, "failed-files", state)["rows"]
    assert [r["path"] for r in failed] == ["corrupt.tif"]
    assert "corrupt or truncated" in failed[0]["load_error"]
    sets = _run(issues_report, "duplicates", state)["sets"]
    assert len(sets) == 1 and sets[0]["kind"] == "exact" and sets[0]["members"] == 2
    assert sets[0]["paths"] == "copy.tif, original.tif"
    examples = _run(issues_report, "qc-examples", state)["tiles"]
    assert "constant: blank.tif | every pixel has the value 7.0" in [r["label"] for r in examples]
    assert all(r["thumbnail"] for r in examples)
    rules = _run(issues_report, "qc-rules", state)
    first = rules["rules"][0]  # the rules file's rule comes first
    assert (first["rule"], first["source"], first["result"]) == ("lab_dtype", "rules.yaml", "pass")
    assert first["pass"] == 6 and first["skip"] == 1  # the corrupt file has no dtype
    builtin = {r["rule"]: r for r in rules["rules"][1:]}
    assert {r["source"] for r in builtin.values()} == {"builtin.yaml"}
    assert builtin["constant"]["result"] == "fail" and builtin["constant"]["fail"] == 1
    assert builtin["unreadable"]["scope"] == "image"
    checks = {(r["rule"], r["unit"]): r for r in rules["checks"]}
    assert checks[("many_unreadable", "(all images)")]["scope"] == "dataset"


def _guarded_page(browser: Any, external: list[str]) -> Any:
    page = browser.new_page(viewport={"width": 1500, "height": 2000})
    keep_local(page, external)
    return page


def _buttons(page: Any) -> list[str]:
    texts: list[str] = page.eval_on_selector_all(BUTTONS, "els => els.map(e => e.innerText)")
    return texts


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_streamlit_opens_on_the_issues_page_and_a_click_filters(issues_report: Path) -> None:
    from playwright.sync_api import sync_playwright

    external: list[str] = []
    with running_viewer(issues_report) as url, sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = _guarded_page(browser, external)
            page.goto(url)
            page.get_by_text("Failed files", exact=True).first.wait_for(timeout=90_000)
            page.get_by_text("2 images", exact=True).wait_for(timeout=60_000)  # duplicates mosaic
            page.wait_for_load_state("networkidle")
            assert "mode=Issues" in page.url
            # Streamlit draws the buttons one element at a time: wait for all of them
            page.wait_for_function(
                "([sel, want]) => { const got = [...document.querySelectorAll(sel)]"
                ".map(b => b.innerText); return want.every(w => got.includes(w)); }",
                arg=[BUTTONS, ["constant", "unreadable", "duplicate"]],
                timeout=60_000,
            )
            text = page.locator('[data-testid="stMain"]').text_content() or ""
            for title in (
                "QC issues",
                "Failed files",
                "Duplicates",
                "Examples per issue",
                "Rules checked",
            ):
                assert title in text
            # the tables' cells are in the grid's accessible markup (textContent), once drawn:
            # the failed file with its error, the duplicate set with its members
            page.wait_for_function(
                "(words) => { const t = document.querySelector('[data-testid=\"stMain\"]')"
                ".textContent; return words.every(w => t.includes(w)); }",
                arg=[
                    "corrupt.tif",
                    "the file holds no image",
                    "copy.tif, original.tif",
                    "exact",
                    "lab_dtype",
                    "rules.yaml",
                ],
                timeout=30_000,
            )
            page.wait_for_timeout(1000)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "viewer_issues.png"), full_page=True)

            page.get_by_role("button", name="constant", exact=True).click()
            page.wait_for_function(
                "(sel) => [...document.querySelectorAll(sel)]"
                ".every(b => b.innerText !== 'unreadable')",
                arg=BUTTONS,
                timeout=60_000,
            )
            assert set(_buttons(page)) == {"constant", "pixel_size_missing"}
            assert "qc_issues" in page.locator('[data-testid="stSidebar"]').inner_text()
            assert "filter=" in page.url and "constant" in page.url
        finally:
            browser.close()
    assert external == [], f"requests left the machine: {external}"
