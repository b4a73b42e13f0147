"""Helpers of the cluster tests: tiny images, the local reference run, sorted rows.

A module of its own, not conftest: test files import it by a name no other folder uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import tifffile

from pixel_patrol_base import api

KEY = ["path", "child_id", "obs_level", "dim_t", "dim_c", "dim_z", "dim_y", "dim_x", "dim_s"]
"""The row key of the report table."""


def write_images(base: Path, n: int, seed: int, shape: tuple[int, ...] = (24, 32)) -> list[Path]:
    """Write ``n`` small uint16 TIFFs with random pixels, in two folders."""
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        path = base / ("control" if i % 2 else "treated") / f"img_{i:02d}.tif"
        path.parent.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 4000, size=shape, dtype=np.uint16)
        tifffile.imwrite(path, pixels, photometric="minisblack")
        paths.append(path)
    return paths


def sorted_rows(df: pl.DataFrame) -> pl.DataFrame:
    """Rows sorted by the full row key, for comparing runs."""
    return df.sort([c for c in KEY if c in df.columns], nulls_last=True)


def local_table(data: Path, out: Path, **kwargs: Any) -> pl.DataFrame:
    """The table of a run with the local profile and no Dask scheduler."""
    project = api.create_project("local", data, loader="tifffile", output_path=out)
    api.process_files(project, profile="local", max_workers=2, **kwargs)
    return sorted_rows(api.load(out)[0])
