"""A large report opens on the Issues page before its bulky columns are loaded, and loses none.

The static viewer loads a report of more than one batch of row groups in two passes
(``viewer/static/src/db.js``): first the columns the Issues page names and the cheap ones,
then the rest (histograms, float metrics, text) in one table swap. Here a report made by
the real pipeline with one row per row group takes that path in a real headless Chromium
(every outside request blocked): the Issues page draws with its thumbnails, a query naming
a deferred column waits for it instead of failing or reading nulls, and once loaded the
table equals the report value for value, in the report's column order.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from browser_helpers import open_guarded, wait_rendered

from pixel_patrol_base import api
from pixel_patrol_base.viewing.static import build_viewer

pytestmark = [pytest.mark.browser, pytest.mark.slow]
COMPARED = ("path", "child_id", "obs_level", "dim_c", "mean_intensity", "histogram_counts")


@pytest.fixture(scope="module", autouse=True)
def _hooked(with_test_hook: Path) -> Path:
    """Every page of this module is built with the test hook."""
    return with_test_hook


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten images (two of them 2-channel stacks), one Parquet row group per row."""
    import tifffile

    root = tmp_path_factory.mktemp("static_deferred")
    data = root / "data"
    data.mkdir()
    rng = np.random.default_rng(3)
    for i in range(8):
        tifffile.imwrite(data / f"plane_{i}.tif", rng.integers(0, 4000, (48, 48), dtype=np.uint16))
    for i in range(2):
        stack = rng.integers(0, 4000, (2, 48, 48), dtype=np.uint16)
        tifffile.imwrite(data / f"stack_{i}.tif", stack, metadata={"axes": "CYX"})
    output = root / "report.parquet"
    project = api.create_project("deferred", data, output_path=output, loader="bioio")
    api.process_files(project, parquet_row_group_size=1)
    assert pq.read_metadata(output).num_row_groups > 8  # more than one batch
    return output


@pytest.fixture
def page(browser: Any, report: Path, tmp_path: Path) -> Iterator[Any]:
    """The report embedded in a single-file viewer, opened on its Issues page."""
    guarded = open_guarded(browser)
    guarded.page.goto(build_viewer(tmp_path / "viewer.html", data=report).as_uri())
    wait_rendered(guarded.page)
    yield guarded.page
    guarded.check()
    guarded.page.close()


def _rows(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    def plain(value: Any) -> Any:
        if isinstance(value, float) and math.isnan(value):
            return "nan"
        return tuple(value) if isinstance(value, list) else value

    return sorted(
        (tuple(plain(r[c]) for c in COMPARED) for r in rows),
        key=lambda t: tuple((v is None, str(v)) for v in t),
    )


def test_the_issues_page_draws_first_with_its_thumbnails(page: Any) -> None:
    assert page.evaluate("window.__viewer.state.mode") == "issues"
    assert "qc-issues" in page.evaluate("Object.keys(window.__viewer.app.compiled)")
    examples = page.locator('section[data-widget="qc-examples"]')
    assert examples.get_attribute("data-state") == "rendered"
    names = page.evaluate("Object.keys(window.__viewer.columns)")
    assert {"thumbnail", "histogram_counts", "mean_intensity", "qc_issues"} <= set(names)


def test_a_query_naming_a_deferred_column_waits_for_it(page: Any, report: Path) -> None:
    # asked straight after the first draw: it waits for the second pass, never fails or
    # reads nulls
    rows = page.evaluate(
        'window.__viewer.sql(\'SELECT count("mean_intensity") AS n, '
        'count("histogram_counts") AS h FROM pp_data\')'
    )
    table = pq.read_table(report, columns=["mean_intensity", "histogram_counts"])
    assert rows == [
        {
            "n": table.num_rows - table.column("mean_intensity").null_count,
            "h": table.num_rows - table.column("histogram_counts").null_count,
        }
    ]


def test_once_loaded_the_table_is_the_report(page: Any, report: Path) -> None:
    page.evaluate("window.__viewer.setState({ mode: 'full' })")  # draws once all is loaded
    assert page.evaluate("window.__viewer.app.deferred") == []
    measures = page.evaluate("performance.getEntriesByType('measure').map((m) => m.name)")
    assert "pp:deferred" in measures  # the second pass ran
    assert page.evaluate("Object.keys(window.__viewer.columns)") == pq.read_schema(report).names
    quoted = ", ".join(f'"{c}"' for c in COMPARED)
    shown = page.evaluate(f"window.__viewer.sql('SELECT {quoted} FROM pp_data')")
    assert _rows(shown) == _rows(pq.read_table(report, columns=list(COMPARED)).to_pylist())
    states = page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('section[data-widget]')]"
        ".map((s) => [s.dataset.widget, s.dataset.state]))"
    )
    assert states["histogram"] == "rendered", states
