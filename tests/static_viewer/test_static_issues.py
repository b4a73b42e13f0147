"""The static viewer's Issues page in a real headless Chromium, every outside request blocked.

One small report with planted problems (:func:`browser_support.build_issues_report`: a
constant image, a corrupt file, an exact copy) is built once through the real pipeline and
embedded in a single-file viewer (built from the test bundle, the only one with the
``window.__viewer`` hook). The page must open on the Issues page, list the problems, show
the failed file with its error, the duplicate set and the rules checked (the rules file's
first), and a click on an issue's button must
filter the whole report (the Images table of the Full mode then lists that image only).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import open_guarded, page_widget_ids, screenshot, wait_rendered, widget_states
from browser_support import build_issues_report

from pixel_patrol_base.viewing.static import build_viewer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module", autouse=True)
def _hooked(with_test_hook: Path) -> Path:
    """Every page of this module is built with the test hook."""
    return with_test_hook


@pytest.fixture(scope="module")
def issues_page(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The single file with the planted-problem report embedded, opened from file://."""
    root = tmp_path_factory.mktemp("static_issues")
    output = build_viewer(root / "viewer.html", data=build_issues_report(root))
    guarded = open_guarded(browser)
    guarded.page.goto(output.as_uri())
    wait_rendered(guarded.page)
    yield guarded
    guarded.check()
    guarded.page.close()


def _card(page: Any, widget_id: str) -> Any:
    return page.locator(f'section[data-widget="{widget_id}"]')


def _buttons(page: Any) -> list[str]:
    texts: list[str] = page.eval_on_selector_all(
        'section[data-widget="qc-issues"] button.pp-filter-on', "els => els.map(e => e.textContent)"
    )
    return texts


def test_the_issues_page_opens_first_and_lists_the_planted_problems(issues_page: Any) -> None:
    page = issues_page.page
    assert page.evaluate("window.__viewer.state.mode") == "issues"
    assert "mode=" not in page.url  # the default mode is not written
    states = widget_states(page)
    assert list(states) == page_widget_ids(page)
    assert list(states) == ["qc-issues", "failed-files", "duplicates", "qc-examples", "qc-rules"]
    assert set(states.values()) == {"rendered"}, states
    assert {"constant", "unreadable", "duplicate"} <= set(_buttons(page))
    issues = _card(page, "qc-issues").inner_text()
    assert "constant" in issues and "fail" in issues
    failed = _card(page, "failed-files").inner_text()
    assert "corrupt.tif" in failed and "the file holds no image" in failed
    duplicates = _card(page, "duplicates")
    assert duplicates.locator("img").count() == 2
    assert "copy.tif, original.tif" in duplicates.inner_text()
    assert "exact" in duplicates.inner_text()
    examples = _card(page, "qc-examples")
    assert examples.locator("img").count() >= 5
    assert "every pixel has the value 7.0" in examples.inner_html()
    rules = _card(page, "qc-rules").inner_text()
    # the rules file's rule, from the footer (pp_rules), before the built-in ones
    assert "lab_dtype" in rules and "rules.yaml" in rules and "builtin.yaml" in rules
    assert rules.index("lab_dtype") < rules.index("unreadable")
    assert "many_unreadable" in rules and "could not be read" in rules  # a dataset verdict
    screenshot(page, "issues")


def test_a_click_on_an_issue_filters_the_whole_report(issues_page: Any) -> None:
    page = issues_page.page
    renders = int(page.evaluate("document.body.dataset.renders"))
    page.locator(
        'section[data-widget="qc-issues"] button.pp-filter-on', has_text="constant"
    ).first.click()
    wait_rendered(page, renders + 1)
    assert page.evaluate("window.__viewer.state.filters") == [
        {"column": "qc_issues", "op": "has", "value": "constant"}
    ]
    assert set(_buttons(page)) == {"constant", "pixel_size_missing"}
    assert "No file failed" in _card(page, "failed-files").inner_text()
    page.evaluate("window.__viewer.setState({mode: 'full'})")
    table = _card(page, "image-table").inner_text()
    assert "blank.tif" in table and "good_0.tif" not in table
    assert "mode=Full" in page.url and "constant" in page.url
