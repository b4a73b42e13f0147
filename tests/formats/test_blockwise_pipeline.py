"""Large images read block by block give the values of the in-memory path.

The two images of ``large/`` (a tiled uint16 ZYX stack of 1.1 MiB and a 1.9 MiB float32
plane with NaN and ±inf) are processed twice by the real pipeline with the bioio loader:
with the default budget (read at once, in the ``bioio_run`` of the whole dataset) and
with ``mb_per_task`` = 1, which reads the stack's planes in batches and the plane, larger
than the budget on its own, tile by tile with a halo (tiles hold at most 64 Ki pixels,
so every plane of both images is tiled). Every column must agree, and both
runs must agree with plain NumPy.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl
import pytest

from .compare import all_equal, frame_rows, image_mismatches
from .conftest import Run
from .dataset import Dataset

pytestmark = pytest.mark.slow

LARGE = ("large/plane.tif", "large/stack.tif")
# The block-wise run imports 'large' only, so its labels and its duplicate sets (whose
# ids derive from their members) differ from those of the whole dataset.
SKIP = {"imported_path", "imported_path_short", "duplicate_set", "duplicate_of"}

SET_ID = re.compile(r"dup-[0-9a-f]+")


def _without_set_ids(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with the duplicate set ids in its QC messages masked (they name the set)."""
    messages = row.get("qc_messages")
    if messages:
        row["qc_messages"] = [SET_ID.sub("dup-…", m) for m in messages]
    return row


def test_blockwise_rows_equal_in_memory_rows(blockwise_run: Run, bioio_run: Run) -> None:
    assert blockwise_run.meta.settings["mb_per_task"] == 1
    problems: list[str] = []
    for path in LARGE:
        small = frame_rows(blockwise_run.df, path, None).sort("obs_level", "dim_z")
        whole = frame_rows(bioio_run.df, path, None).sort("obs_level", "dim_z")
        assert small.height == whole.height > 0, path
        assert small["load_error"].is_null().all() and small["processor_errors"].is_null().all()
        assert set(small.columns) <= set(whole.columns)
        columns = [c for c in small.columns if c not in SKIP]
        for got, want in zip(
            small.select(columns).iter_rows(named=True),
            whole.select(columns).iter_rows(named=True),
            strict=True,
        ):
            got, want = _without_set_ids(got), _without_set_ids(want)
            problems += [f"{path} level {want['obs_level']}: {d}" for d in all_equal(got, want)]
    assert not problems, "\n".join(problems[:40])


def test_blockwise_rows_match_numpy(blockwise_run: Run, dataset: Dataset) -> None:
    problems: list[str] = []
    for path in LARGE:
        rows = frame_rows(blockwise_run.df, path, None)
        problems += image_mismatches(rows, dataset.images[(path, None)], path)
    assert not problems, "\n".join(problems[:40])


def test_only_the_large_folder_was_processed(blockwise_run: Run) -> None:
    level0 = blockwise_run.df.filter(pl.col("obs_level") == 0)
    assert sorted(level0["path"].to_list()) == list(LARGE)
