"""The compiled kernels are lazy: importing them never imports numba, their first call
compiles them, and the machine code is cached on disk for the next process.

Each check runs in a fresh interpreter, since this test process may have imported numba
already.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

IMPORT_THEN_CALL = """
import sys
import pixel_patrol_base.imaging.engine
import pixel_patrol_base.imaging.order
import pixel_patrol_base.imaging.stencil
import pixel_patrol_base.processors.compression
import pixel_patrol_base.processors.quality
assert "numba" not in sys.modules, "importing the kernels imported numba"
import numpy as np
from pixel_patrol_base.imaging.kernels import selection
counts = selection.count_values(np.array([3, 5, 5, 7], np.uint8), 3, 7)
assert counts.tolist() == [1, 0, 2, 0, 1], counts
assert "numba" in sys.modules
print(sum(selection._count.dispatcher().stats.cache_hits.values()))
"""


def _run(cache_dir: Path) -> str:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_THEN_CALL],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def test_kernels_compile_at_first_call_and_are_cached_on_disk(tmp_path: Path) -> None:
    assert _run(tmp_path) == "0"  # compiled: nothing in the fresh cache to load
    assert any(p.name.startswith("selection._count") for p in tmp_path.rglob("*.nbi"))
    assert _run(tmp_path) == "1"  # the next process loads it from the cache
