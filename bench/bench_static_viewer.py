"""Benchmark of the static viewer: file size, and time to the first chart in Chromium.

Usage: ``python bench/bench_static_viewer.py [REPORT]`` (default: the example dataset,
processed by the real pipeline into a temporary folder). The report's rows are repeated
(with distinct paths) until the table holds 20,000 and 100,000 image rows; each table is
opened in a real headless Chromium from a site folder over 127.0.0.1 with ``?data=``.
Printed: the single file's size, and per table the seconds until the Issues page (the
default view) has drawn every widget (target for 100,000 images: at most 5 s) with the
viewer's own steps (fetch, DuckDB start, Parquet load, prepared statements, each
widget's queries: its ``pp:`` performance measures), then, in the Full mode, to the
first chart and to all widgets drawn, with ratios against the unrepeated report measured
in the same run.
"""

from __future__ import annotations

import functools
import http.server
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pixel_patrol_base import api

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from browser_support import CHROMIUM, CHROMIUM_ARGS  # a tests/ helper


def example_report(root: Path) -> Path:
    """The example dataset processed by the real pipeline."""
    from pixel_patrol_base.example import make_example_dataset

    data = make_example_dataset(root / "data")
    project = api.create_project("bench", data, output_path=root / "report.parquet", loader="bioio")
    project = api.add_paths(project, ["control", "treated"])
    api.process_files(project)
    return root / "report.parquet"


def repeated(report: Path, images: int, target: Path) -> Path:
    """``report`` repeated (paths suffixed with the copy number) up to ``images`` images."""
    table = pq.read_table(report)
    per_copy = pc.sum(pc.equal(table.column("obs_level"), 0)).as_py()
    copies = max(1, -(-images // per_copy))
    parts = []
    for i in range(copies):
        field = table.schema.field("path")
        paths = pc.binary_join_element_wise(
            table.column("path").cast(pa.string()), pa.scalar(f"#{i}"), ""
        ).cast(field.type)
        parts.append(table.set_column(table.schema.get_field_index("path"), field, paths))
    footer = pq.read_metadata(report).metadata
    # row groups as the pipeline writes them (parquet_row_group_size, default 4096)
    table = pa.concat_tables(parts).replace_schema_metadata(footer)
    pq.write_table(table, target, row_group_size=4096)
    return target


def _guarded_page(browser: Any) -> Any:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.route(
        "**/*",
        lambda r: (
            r.continue_()
            if r.request.url.startswith(("http://127.0.0.1", "blob:", "data:"))
            else r.abort()
        ),
    )
    return page


def time_issues_page(browser: Any, url: str) -> float:
    """Seconds from navigation to the Issues page (the default) drawn, every widget."""
    page = _guarded_page(browser)
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_function("Number(document.body.dataset.renders || 0) >= 1", timeout=300_000)
    drawn = time.perf_counter() - start
    steps = page.evaluate(
        "performance.getEntriesByType('measure').filter((m) => m.name.startsWith('pp:'))"
        ".map((m) => [m.name.slice(3), m.startTime, m.duration])"
    )
    page.close()
    PHASES[url] = steps
    return drawn


def time_to_chart(browser: Any, url: str) -> tuple[float, float]:
    """Seconds from navigation of the Full mode to the first chart, and to every widget."""
    page = _guarded_page(browser)
    start = time.perf_counter()
    page.goto(url + "&mode=full")
    page.wait_for_selector("svg.marks", timeout=300_000)
    first = time.perf_counter() - start
    page.wait_for_function("Number(document.body.dataset.renders || 0) >= 1", timeout=300_000)
    full = time.perf_counter() - start
    page.close()
    return first, full


PHASES: dict[str, list[tuple[str, float, float]]] = {}
"""Per Issues-page URL: the viewer's ``pp:`` performance measures (name, start ms, ms)."""


def print_phases(name: str, steps: list[tuple[str, float, float]]) -> None:
    """Where the first draw of one table went: the viewer's own measures, in order."""
    parts = ", ".join(
        f"{step} {duration / 1e3:.2f} s (ends {(start + duration) / 1e3:.2f})"
        for step, start, duration in sorted(steps, key=lambda s: s[1] + s[2])
    )
    print(f"{name:>14}: Issues page steps: {parts}")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No request log."""


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        report = Path(sys.argv[1]) if len(sys.argv) > 1 else example_report(root)
        single = api.build_viewer(root / "viewer.html")
        print(f"single file without data: {single.stat().st_size / 1e6:.2f} MB (target <= 15 MB)")
        site = api.build_viewer(root / "site")
        tables = {"baseline": report}
        for n in (20_000, 100_000):
            tables[f"{n} images"] = repeated(report, n, site / f"t{n}.parquet")
        (site / "baseline.parquet").write_bytes(report.read_bytes())
        tables["baseline"] = site / "baseline.parquet"
        handler = functools.partial(_QuietHandler, directory=str(site))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}/index.html?data="
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            issues = {
                name: time_issues_page(browser, base + path.name) for name, path in tables.items()
            }
            results = {
                name: time_to_chart(browser, base + path.name) for name, path in tables.items()
            }
            browser.close()
        server.shutdown()
        for name, path in tables.items():
            print_phases(name, PHASES.get(base + path.name, []))
        first0, full0 = results["baseline"]
        for name, (first, full) in results.items():
            size = tables[name].stat().st_size / 1e6
            target = " (target <= 5 s)" if name == "100000 images" else ""
            print(
                f"{name:>14}: {size:7.1f} MB parquet, Issues page {issues[name]:6.2f} s "
                f"({issues[name] / issues['baseline']:5.2f}x baseline){target}; Full mode: "
                f"first chart {first:6.2f} s ({first / first0:5.2f}x), "
                f"all widgets {full:6.2f} s ({full / full0:5.2f}x)"
            )


if __name__ == "__main__":
    main()
