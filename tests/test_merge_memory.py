"""The merge's memory stays under its documented bound (issue 14): measured on a real run.

100,000 tiny files without a loader are processed by the real pipeline; Snakemake's
benchmark file of the merge job gives its peak RSS, which must stay under
``memory_bound_mb(rows)`` (docs/hpc.md). ``bench/bench_scale.py`` measures the same at a
million rows.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from pipeline_helpers import deadline, tiny_files

from pixel_patrol_base import api
from pixel_patrol_base.pipeline.merge import memory_bound_mb
from pixel_patrol_base.pipeline.run import layout

pytestmark = pytest.mark.slow

ROWS = 100_000


def test_a_merge_of_100k_rows_stays_under_its_memory_bound(tmp_path: Path) -> None:
    data = tmp_path / "data"
    tiny_files(data, ROWS)
    project = api.create_project("memory", data, output_path=tmp_path / "memory.parquet")
    with deadline(300):
        api.process_files(project, max_workers=2)
    assert project.last_run is not None and project.last_run["rows"] == ROWS
    table = project.workdir / layout.MERGE_BENCHMARK
    rows = list(csv.DictReader(table.read_text("utf-8").splitlines(), delimiter="\t"))
    peak_mb = float(rows[-1]["max_rss"])
    assert 0 < peak_mb <= memory_bound_mb(ROWS), f"merge peak {peak_mb:.0f} MB"
