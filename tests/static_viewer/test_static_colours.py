"""One colour per group in the static viewer: every chart's legend, the mosaic's borders
and the mosaic's legend swatches agree, on a report whose mosaic shows its three groups in
the reverse of their sorted order (brightest first)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import open_guarded, screenshot, wait_rendered
from browser_support import COLOUR_GROUPS, LEGEND_COLOURS_JS, colour_report, hex_rgb

from pixel_patrol_base.viewing.static import build_viewer
from pixel_patrol_base.viewing.widgets.palettes import PALETTES, group_domain

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CELLS_JS = """els => els.map(e => [e.title.split('\\n')[0], getComputedStyle(e).borderTopColor])"""
SWATCHES_JS = """els => els.map(e => [e.textContent,
    getComputedStyle(e.querySelector('.pp-swatch')).backgroundColor])"""


@pytest.fixture(scope="module")
def page(
    browser: Any, with_test_hook: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """The single file in Full mode with the three-group report loaded."""
    root = tmp_path_factory.mktemp("static_colours")
    report = colour_report(root)
    viewer = build_viewer(root / "viewer.html")
    guarded = open_guarded(browser)
    guarded.page.goto(viewer.as_uri() + "?mode=Full")
    guarded.page.wait_for_function("window.__viewer !== undefined", timeout=120_000)
    guarded.page.evaluate("window.__viewer.ready")
    guarded.page.set_input_files("#pp-file", str(report))
    wait_rendered(guarded.page)
    yield guarded.page
    screenshot(guarded.page, "static_colours")
    guarded.check()
    guarded.page.close()


def test_every_chart_and_the_mosaic_give_a_group_one_colour(page: Any) -> None:
    expected = {
        g: hex_rgb(c)
        for g, c in zip(group_domain(COLOUR_GROUPS), PALETTES["tableau10"], strict=False)
    }
    legends = page.eval_on_selector_all(".pp-chart svg", LEGEND_COLOURS_JS)
    grouped = [m for m in legends if set(m) == set(COLOUR_GROUPS)]
    assert len(grouped) >= 3, legends
    for legend in grouped:
        assert {g: hex_rgb(c) for g, c in legend.items()} == expected
    cells = page.eval_on_selector_all(".pp-mosaic-cell", CELLS_JS)
    assert [label.split("/")[0] for label, _ in cells] == [g for g in COLOUR_GROUPS for _ in "ab"]
    for label, colour in cells:
        assert hex_rgb(colour) == expected[label.split("/")[0]], label
    swatches = page.eval_on_selector_all(".pp-legend-item", SWATCHES_JS)
    assert {g: hex_rgb(c) for g, c in swatches} == expected
