"""The real viewer in a real headless Chromium: charts appear, follow the group, stay local.

Starts ``pixel-patrol view --no-browser`` as a subprocess, drives it with Playwright and
Debian's Chromium (``/usr/bin/chromium``; Playwright's own browser download is never
used), and records every request: any that is not for 127.0.0.1 fails the test.
"""

from __future__ import annotations

import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, keep_local, streamlit_viewer

CHARTS = '[data-testid="stVegaLiteChart"]'

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="needs Debian's chromium (tests/install_system_packages.sh)",
    ),
]


@pytest.fixture
def viewer(pipeline_report: Path) -> Iterator[str]:
    """``pixel-patrol view --no-browser`` running on a free port; yields its Full mode."""
    with streamlit_viewer(pipeline_report, "--group-by", "imported_path_short") as url:
        yield url + "?mode=Full"
    # Stopping the command stops its Streamlit child too: nothing answers any more.
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "_stcore/health", timeout=2)


def _chart_texts(page: object) -> list[str]:
    return page.eval_on_selector_all(  # type: ignore[attr-defined,no-any-return]
        CHARTS + " svg", "els => els.map(e => e.textContent)"
    )


def test_charts_follow_the_group_and_nothing_leaves_the_machine(
    viewer: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    external: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 2200})
            keep_local(page, external)
            page.goto(viewer)
            page.wait_for_selector(CHARTS + " svg", timeout=90_000)
            page.wait_for_load_state("networkidle")
            before = _chart_texts(page)
            assert any("control" in t and "treated" in t for t in before), before

            group = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(
                has_text="Group by"
            )
            group.locator("input").click()
            group.locator("input").fill("file extension")  # the list names it in words
            page.get_by_role("option", name="file extension", exact=True).click()
            page.wait_for_function(
                """(sel) => [...document.querySelectorAll(sel)]
                       .filter(e => e.textContent.includes("ome.tif")
                                    && e.textContent.includes("png")).length >= 5""",
                arg=CHARTS + " svg",
                timeout=60_000,
            )
            after = _chart_texts(page)
            assert after != before
            assert "file_extension" in page.url
            page.wait_for_timeout(1500)
            shot = tmp_path / "viewer.png"
            page.screenshot(path=str(shot), full_page=True)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, SCREENSHOTS / "viewer_full.png")
            page.goto(viewer.replace("mode=Full", "mode=Overview"))
            page.wait_for_selector(CHARTS + " svg", timeout=60_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(SCREENSHOTS / "viewer_overview.png"), full_page=True)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    assert external == [], f"requests left the machine: {external}"
