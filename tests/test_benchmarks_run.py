"""The in-process benchmarks still run, on a table small enough for the fast lane.

No timing is asserted (the figures belong in a closing note, not in a test): this only
keeps a widget, column or table that the benchmarks do not know about from breaking them
unseen, as ``qc-rules`` (which queries ``pp_rules``) once did.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("bench_widget_queries.py", "Issues page (first draw, 2000 images)"),
        ("bench_qc_engine.py", "QC: "),
    ],
)
def test_benchmark_runs_on_a_small_table(script: str, expected: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--rows", "2000"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert expected in done.stdout
