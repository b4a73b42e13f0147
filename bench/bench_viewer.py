"""Benchmark the Streamlit viewer on a large report, through a real headless browser.

    python bench/bench_viewer.py [--rows 1000000] [--keep DIR]

Builds a small real report with the pipeline (example dataset, bioio loader, every
processor), then a large one of ``--rows`` image rows by repeating its image rows
(histograms and thumbnails included) with unique paths spread over 8 imported folders,
and measures, in one run, with Debian's Chromium driven by Playwright:

(a) baseline: page load of an empty Streamlit app until its text shows;
(b) the Issues page: opening ``pixel-patrol view`` (its default view) until every widget
    of the page is drawn and the script run has ended (target: at most 3 s);
(c) time to first chart: the Full mode, in a new page of the same viewer (its DuckDB
    connection is warm, its queries are not), until the first chart is drawn (target: at
    most 8 s);
(d) group change: choosing another group column until every chart has been redrawn and
    no element is stale, once per group column, each shown for the first time (target:
    median at most 1.5 s).

Each figure is printed in seconds and as a ratio to the baseline. Not a test.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from browser_support import CHROMIUM, CHROMIUM_ARGS, free_port  # a tests/ helper

from pixel_patrol_base.viewing.widgets.query import GROUP_LABELS

ISSUES_TARGET_S = 3.0
FIRST_CHART_TARGET_S = 8.0
GROUP_CHANGE_TARGET_S = 1.5
CHUNK = 100_000
FOLDERS = 8
CHARTS = '[data-testid="stVegaLiteChart"]'
GROUPS = ("file_extension", "dtype", "dim_order", "parent", "imported_path_short")


def small_report(root: Path) -> Path:
    """A real report made by the pipeline on the example dataset."""
    from pixel_patrol_base import api
    from pixel_patrol_base.example import make_example_dataset

    data = make_example_dataset(root / "data")
    project = api.create_project("bench", data, output_path=root / "small.parquet", loader="bioio")
    api.add_paths(project, ["control", "treated"])
    api.process_files(project, description="viewer benchmark template")
    return root / "small.parquet"


def large_report(template: Path, out: Path, rows: int) -> Path:
    """``rows`` image rows repeated from ``template``'s images, unique paths, 8 folders."""
    source = pq.read_table(template)
    images = source.filter(
        pc.and_(pc.equal(source["obs_level"], 0), pc.is_null(source["load_error"]))
    )
    footer = json.loads(pq.read_metadata(template).metadata[b"pixel_patrol"])
    footer["counts"] = {"files": rows, "images": rows, "failed": 0, "rows": rows}
    footer["project_name"] = f"bench {rows:,} images"
    schema = source.schema.with_metadata(
        {**(source.schema.metadata or {}), b"pixel_patrol": json.dumps(footer).encode()}
    )
    rng = np.random.default_rng(0)
    with pq.ParquetWriter(out, schema) as writer:
        for start in range(0, rows, CHUNK):
            n = min(CHUNK, rows - start)
            chunk = images.take(pa.array(rng.integers(0, images.num_rows, n)))
            ids = np.arange(start, start + n)
            folders = [f"folder_{i % FOLDERS}" for i in ids]
            names = [
                f"img_{i:07d}{Path(p).suffix}"
                for i, p in zip(ids, chunk["path"].to_pylist(), strict=True)
            ]
            chunk = chunk.set_column(
                chunk.schema.get_field_index("path"),
                "path",
                pa.array(
                    [f"{f}/{n_}" for f, n_ in zip(folders, names, strict=True)],
                    chunk.schema.field("path").type,
                ),
            )
            chunk = chunk.set_column(
                chunk.schema.get_field_index("name"),
                "name",
                pa.array(names, chunk.schema.field("name").type),
            )
            for column in ("imported_path", "imported_path_short", "parent"):
                index = chunk.schema.get_field_index(column)
                chunk = chunk.set_column(
                    index, column, pa.array(folders, chunk.schema.field(column).type)
                )
            jitter = rng.normal(1.0, 0.1, n)
            for column in ("mean_intensity", "laplacian_variance", "std_intensity"):
                index = chunk.schema.get_field_index(column)
                values = pc.multiply(chunk[column].cast(pa.float64()), pa.array(jitter))
                chunk = chunk.set_column(index, column, values)
            writer.write_table(chunk.cast(schema), row_group_size=CHUNK)
    return out


@contextmanager
def serving(command: list[str], port: int) -> Iterator[str]:
    """Run ``command`` until it answers ``/_stcore/health``; yield its address."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command} exited with {process.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _settled(page: object, timeout_ms: int = 120_000) -> None:
    page.wait_for_function(  # type: ignore[attr-defined]
        """() => !document.querySelector('[data-testid="stStatusWidget"]')
                 && !document.querySelector('[data-stale="true"]')""",
        timeout=timeout_ms,
    )


def measure(report: Path, workdir: Path) -> dict[str, object]:
    """Baseline, time to first chart and group-change times, in seconds."""
    from playwright.sync_api import sync_playwright

    empty_app = workdir / "empty_app.py"
    empty_app.write_text("import streamlit as st\nst.write('baseline ready')\n")
    flags = [
        "--server.headless=true",
        "--server.address=127.0.0.1",
        "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
    ]
    results: dict[str, object] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        port = free_port()
        base_cmd = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(empty_app),
            *flags,
            f"--server.port={port}",
        ]
        with serving(base_cmd, port) as url:
            page = browser.new_page()
            started = time.perf_counter()
            page.goto(url)
            page.get_by_text("baseline ready").wait_for(timeout=60_000)
            results["baseline_s"] = time.perf_counter() - started
            page.close()
        port = free_port()
        view_cmd = [
            sys.executable,
            "-m",
            "pixel_patrol_base.cli",
            "view",
            str(report),
            "--no-browser",
            "--port",
            str(port),
            "--group-by",
            "imported_path_short",
        ]
        with serving(view_cmd, port) as url:
            page = browser.new_page(viewport={"width": 1500, "height": 1200})
            started = time.perf_counter()
            page.goto(url)  # the default view: the Issues page, drawn first by a new user
            page.get_by_text("Rules checked", exact=True).first.wait_for(timeout=120_000)
            _settled(page)
            results["issues_s"] = time.perf_counter() - started
            page.screenshot(path=str(workdir / "bench_viewer_issues.png"), full_page=True)
            page.close()
            page = browser.new_page(viewport={"width": 1500, "height": 1200})
            started = time.perf_counter()
            page.goto(url + "?mode=Full")
            page.wait_for_selector(f"{CHARTS} svg, {CHARTS} canvas", timeout=120_000)
            results["first_chart_s"] = time.perf_counter() - started
            _settled(page)
            results["all_charts_s"] = time.perf_counter() - started
            changes: list[float] = []
            for group in GROUPS:
                box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(
                    has_text="Group by"
                )
                box.locator("input").click()
                label = GROUP_LABELS.get(group, group)  # the list names folder levels in words
                box.locator("input").fill(label)
                option = page.get_by_role("option", name=label, exact=True)
                started = time.perf_counter()
                option.click()
                page.wait_for_function(
                    "() => location.search.includes(arguments[0])".replace(
                        "arguments[0]", json.dumps(group)
                    ),
                    timeout=120_000,
                )
                _settled(page)
                changes.append(time.perf_counter() - started)
            results["group_change_s"] = changes
            page.screenshot(path=str(workdir / "bench_viewer.png"), full_page=True)
        browser.close()
    return results


def main() -> None:
    """Build the reports, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="keep the generated reports in this folder")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench_viewer_"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        big = workdir / f"large_{args.rows}.parquet"
        if not big.exists():
            started = time.perf_counter()
            large_report(small_report(workdir), big, args.rows)
            size_mib = big.stat().st_size / 2**20
            seconds = time.perf_counter() - started
            print(f"generated {args.rows:,} rows in {seconds:.1f} s ({size_mib:.0f} MiB)")
        r = measure(big, workdir)
        base = float(r["baseline_s"])  # type: ignore[arg-type]
        first = float(r["first_chart_s"])  # type: ignore[arg-type]
        changes = list(r["group_change_s"])  # type: ignore[call-overload]
        median = statistics.median(changes)
        print(f"baseline (empty Streamlit app page load): {base:.2f} s")
        issues = float(r["issues_s"])  # type: ignore[arg-type]
        target = ISSUES_TARGET_S
        ratio = issues / base
        print(f"Issues page drawn:   {issues:.2f} s ({ratio:.1f}x baseline; target <= {target} s)")
        ratio = first / base
        target = FIRST_CHART_TARGET_S
        print(f"time to first chart: {first:.2f} s ({ratio:.1f}x baseline; target <= {target} s)")
        print(f"all charts drawn:    {float(r['all_charts_s']):.2f} s")  # type: ignore[arg-type]
        each = ", ".join(f"{g}={t:.2f}" for g, t in zip(GROUPS, changes, strict=True))
        ratio = median / base
        target = GROUP_CHANGE_TARGET_S
        print(f"group change: median {median:.2f} s ({ratio:.1f}x baseline; target <= {target} s)")
        print(f"  each: {each}")
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
