"""The static viewer's single-image view in a real headless Chromium, outside requests blocked.

One small report (:func:`browser_support.build_image_report`: a 4-plane, 2-channel stack
whose plane z=2 is blank, and two 2D images) is built once through the real pipeline and
embedded in a single-file viewer (the test bundle, with the ``window.__viewer`` hook),
opened from ``file://``. The Images table's "Open" button must show the image's view (its
header, its QC issue, its per-slice chart) and write it to the address; the browser's back
button and the view's own button return to the report; a mosaic tile opens its image; an
address naming no image gives a notice.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (
    GuardedPage,
    open_guarded,
    page_notices,
    screenshot,
    wait_rendered,
    widget_states,
)
from browser_support import build_image_report

from pixel_patrol_base.viewing import widgets as pw
from pixel_patrol_base.viewing.static import build_viewer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

IMAGE_WIDGETS = [w.id for w in pw.load_widgets().values() if w.page == "image"]


@pytest.fixture(scope="module", autouse=True)
def _hooked(with_test_hook: Path) -> Path:
    """Every page of this module is built with the test hook."""
    return with_test_hook


@pytest.fixture(scope="module")
def viewer_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("static_image")
    return build_viewer(root / "viewer.html", data=build_image_report(root))


@pytest.fixture(scope="module")
def page(browser: Any, viewer_file: Path) -> Iterator[GuardedPage]:
    guarded = open_guarded(browser)
    guarded.page.goto(viewer_file.as_uri() + "?mode=Full")
    wait_rendered(guarded.page)
    yield guarded
    guarded.check()
    guarded.page.close()


def _renders(page: Any) -> int:
    return int(page.evaluate("document.body.dataset.renders"))


def _card(page: Any, widget_id: str) -> Any:
    return page.locator(f'section[data-widget="{widget_id}"]')


def test_the_images_table_opens_the_image_view_and_back_returns(page: GuardedPage) -> None:
    tab = page.page
    renders = _renders(tab)
    _card(tab, "image-table").locator('button.pp-open-image[data-path="stack.tif"]').click()
    wait_rendered(tab, renders + 1)
    states = widget_states(tab)
    assert list(states) == IMAGE_WIDGETS and set(states.values()) == {"rendered"}, states
    assert tab.locator(".pp-image-path").inner_text() == "Image: stack.tif"
    assert "stack.tif" in _card(tab, "image-header").inner_text()
    assert "uint16" in _card(tab, "image-header").inner_text()
    issues = _card(tab, "image-qc").inner_text()
    assert "constant_plane" in issues and "C=0, Z=2" in issues
    assert "this plane holds the single value 7.0" in issues
    chart = _card(tab, "image-slices")
    assert chart.locator("svg").count() >= 1 and "mean_intensity" in chart.inner_html()
    assert _card(tab, "image-histograms").locator("svg").count() >= 1
    assert "image=stack.tif" in tab.url and "mode=Full" in tab.url
    screenshot(tab, "image")

    renders = _renders(tab)
    tab.go_back()
    wait_rendered(tab, renders + 1)
    assert "image=" not in tab.url
    assert "image-table" in widget_states(tab) and "image-qc" not in widget_states(tab)


def test_a_mosaic_tile_opens_its_image_and_the_button_goes_back(page: GuardedPage) -> None:
    tab = page.page
    renders = _renders(tab)
    tile = _card(tab, "mosaic").locator("button.pp-open-image").first
    path = tile.get_attribute("data-path")
    tile.click()
    wait_rendered(tab, renders + 1)
    assert tab.evaluate("window.__viewer.state.image") == {"path": path, "child_id": None}
    assert tab.locator(".pp-image-path").inner_text() == f"Image: {path}"
    renders = _renders(tab)
    tab.locator("button.pp-image-back").click()
    wait_rendered(tab, renders + 1)
    assert tab.evaluate("window.__viewer.state.image") is None
    assert "image=" not in tab.url and "image-table" in widget_states(tab)


def test_an_address_naming_no_image_is_a_notice(browser: Any, viewer_file: Path) -> None:
    guarded = open_guarded(browser)
    try:
        guarded.page.goto(viewer_file.as_uri() + "?image=no%2Fsuch.tif&child=1")
        wait_rendered(guarded.page)
        assert page_notices(guarded.page) == ["image=no/such.tif"]
        assert "the report has no such image" in guarded.page.locator("#pp-notices").inner_text()
        assert guarded.page.evaluate("window.__viewer.state.image") is None
        assert "qc-issues" in widget_states(guarded.page)  # the Issues page, as without it
        guarded.page.goto(viewer_file.as_uri() + "?image=stack.tif")
        wait_rendered(guarded.page)
        assert list(widget_states(guarded.page)) == IMAGE_WIDGETS
        guarded.check()
    finally:
        guarded.page.close()
