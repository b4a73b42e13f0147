"""The ``zarr`` loader through the real pipeline on a bioformats2raw OME-Zarr store.

The store holds two series (a CZYX pyramid of three levels and a float YX image with
NaN and ±inf) next to the ``OME`` metadata group; the folder is one file of the table,
each series one image, and the thumbnail of the pyramid is drawn from level 1.
"""

from __future__ import annotations

import polars as pl
import pytest

from .compare import frame_rows, header_mismatches, image_mismatches, thumbnail_mismatches
from .conftest import Run
from .dataset import Dataset, Key

pytestmark = pytest.mark.slow


def _stores(dataset: Dataset) -> list[Key]:
    return [k for k in dataset.images if k[0].endswith(".zarr")]


def test_every_metric_of_every_row_matches_numpy(zarr_run: Run, dataset: Dataset) -> None:
    problems: list[str] = []
    for path, child in _stores(dataset):
        rows = frame_rows(zarr_run.df, path, child)
        problems += image_mismatches(rows, dataset.images[(path, child)], f"{path}[{child}]")
    assert not problems, "\n".join(problems[:40])


def test_headers_and_thumbnails(zarr_run: Run, dataset: Dataset) -> None:
    problems: list[str] = []
    for path, child in _stores(dataset):
        level0 = frame_rows(zarr_run.df, path, child).filter(pl.col("obs_level") == 0)
        assert level0.height == 1, (path, child)
        row = level0.row(0, named=True)
        assert row["load_error"] is None and row["processor_errors"] is None, row
        assert row["type"] == "directory" and row["format_reader"] == "zarr"
        problems += header_mismatches(row, dataset.images[(path, child)], f"{path}[{child}]")
        problems += thumbnail_mismatches(row, dataset.images[(path, child)], f"{path}[{child}]")
    assert not problems, "\n".join(problems[:40])


def test_the_store_is_one_file_with_one_image_per_series(zarr_run: Run) -> None:
    assert zarr_run.df["path"].unique().to_list() == ["stores/multi.zarr"]
    level0 = zarr_run.df.filter(pl.col("obs_level") == 0).sort("child_id")
    assert level0["child_id"].to_list() == ["0", "1"]
    assert zarr_run.summary["files"] == 1 and zarr_run.summary["images"] == 2
    assert zarr_run.summary["failed"] == 0
    skipped = zarr_run.summary["skipped_by_extension"]
    want = {"tif": 8, "ome.tif": 5, "png": 2, "jpg": 1, "txt": 1, "md": 1}
    assert skipped == want, skipped
