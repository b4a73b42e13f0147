"""The real viewer in a real headless Chromium: charts appear, follow the group, stay local.

Starts ``pixel-patrol view --no-browser`` as a subprocess, drives it with Playwright and
Debian's Chromium (``/usr/bin/chromium``; Playwright's own browser download is never
used), and records every request: any that is not for 127.0.0.1 fails the test.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, free_port

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
    """``pixel-patrol view --no-browser`` running on a free port; yields its address."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "pixel_patrol_base.cli",
        "view",
        str(pipeline_report),
        "--no-browser",
        "--port",
        str(port),
        "--group-by",
        "imported_path_short",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the viewer never answered /_stcore/health"
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/?mode=Full"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
    # Stopping the command stops its Streamlit child too: nothing answers any more.
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)


def _chart_texts(page: object) -> list[str]:
    return page.eval_on_selector_all(  # type: ignore[attr-defined,no-any-return]
        CHARTS + " svg", "els => els.map(e => e.textContent)"
    )


def test_charts_follow_the_group_and_nothing_leaves_the_machine(
    viewer: str, tmp_path: Path
) -> None:
    from playwright.sync_api import Route, sync_playwright

    external: list[str] = []

    def guard(route: Route) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            external.append(url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 2200})
            page.route("**/*", guard)
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
