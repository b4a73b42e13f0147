"""One colour per group in the Streamlit viewer: every chart's legend and the mosaic agree.

The report's three added paths appear in the mosaic (brightest first) in the reverse of
their sorted order, so colours handed out by first appearance would differ from the
charts' (sorted) colour domain.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    COLOUR_GROUPS,
    LEGEND_COLOURS_JS,
    SCREENSHOTS,
    colour_report,
    hex_rgb,
    keep_local,
    streamlit_viewer,
)

from pixel_patrol_base.viewing.widgets.palettes import PALETTES, group_domain

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]

CHARTS = '[data-testid="stVegaLiteChart"] svg'
CELL = 72  # pp_viewer.mosaic.CELL

MOSAIC_BORDERS_JS = """(img, step) => {
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const out = [];
    for (let x = 1; x < img.naturalWidth; x += step)
        out.push([...ctx.getImageData(x, 1, 1, 1).data].slice(0, 3));
    return out;
}"""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The Full page of the three-group report, every outside request refused."""
    from playwright.sync_api import sync_playwright

    report = colour_report(tmp_path_factory.mktemp("colours"))
    outside: list[str] = []

    with streamlit_viewer(report) as address, sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1500, "height": 2400})
            keep_local(tab, outside)
            tab.goto(address + "?mode=Full")
            tab.wait_for_selector(CHARTS, timeout=90_000)
            tab.wait_for_selector('[data-testid="stImage"] img', timeout=90_000)
            tab.wait_for_load_state("networkidle")
            tab.wait_for_timeout(1000)
            yield tab
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(SCREENSHOTS / "viewer_colours.png"), full_page=True)
        finally:
            browser.close()
    assert outside == [], f"requests tried to leave the machine: {outside}"


def test_every_chart_and_the_mosaic_give_a_group_one_colour(page: Any) -> None:
    expected = dict(zip(group_domain(COLOUR_GROUPS), PALETTES["tableau10"], strict=False))
    legends = page.eval_on_selector_all(CHARTS, LEGEND_COLOURS_JS)
    grouped = [m for m in legends if set(m) == set(COLOUR_GROUPS)]
    assert len(grouped) >= 3, legends
    for legend in grouped:
        assert {g: hex_rgb(c) for g, c in legend.items()} == {
            g: hex_rgb(c) for g, c in expected.items()
        }
    borders = page.eval_on_selector('[data-testid="stImage"] img', MOSAIC_BORDERS_JS, CELL)
    # brightest first: two tiles of each group in COLOUR_GROUPS order
    shown = [COLOUR_GROUPS[i // 2] for i in range(6)]
    assert len(borders) >= 6, borders
    for border, group in zip(borders, shown, strict=False):
        # st.image re-encodes the picture: allow a few levels of drift per channel
        near = max(abs(a - b) for a, b in zip(border, hex_rgb(expected[group]), strict=True))
        assert near <= 8, (group, border, expected[group])
