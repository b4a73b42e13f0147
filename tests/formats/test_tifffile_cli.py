"""The ``tifffile`` loader through ``pixel-patrol process``: metrics, failures, summary.

One CLI run on the whole dataset: the TIFF and OME-TIFF files are compared with plain
NumPy row by row; the corrupt TIFF is a row with ``load_error``; PNG, JPEG, Zarr and text
files are skipped by extension, and the summary line counts them and the failure while
the CLI still exits 0.
"""

from __future__ import annotations

import polars as pl
import pytest

from .compare import frame_rows, header_mismatches, image_mismatches, thumbnail_mismatches
from .conftest import Run
from .dataset import Dataset, Key

pytestmark = pytest.mark.slow

TIFF_SUFFIXES = (".tif", ".tiff")


def _tiffs(dataset: Dataset) -> list[Key]:
    return [k for k in dataset.images if k[0].endswith(TIFF_SUFFIXES)]


def test_every_metric_of_every_row_matches_numpy(tifffile_cli_run: Run, dataset: Dataset) -> None:
    problems: list[str] = []
    for path, child in _tiffs(dataset):
        rows = frame_rows(tifffile_cli_run.df, path, child)
        problems += image_mismatches(rows, dataset.images[(path, child)], f"{path}[{child}]")
    assert not problems, "\n".join(problems[:40])


def test_headers_and_thumbnails(tifffile_cli_run: Run, dataset: Dataset) -> None:
    problems: list[str] = []
    for path, child in _tiffs(dataset):
        level0 = frame_rows(tifffile_cli_run.df, path, child).filter(pl.col("obs_level") == 0)
        assert level0.height == 1, (path, child)
        row = level0.row(0, named=True)
        label = f"{path}[{child}]"
        assert row["load_error"] is None and row["processor_errors"] is None, (label, row)
        assert row["format_reader"] == "tifffile"
        problems += header_mismatches(row, dataset.images[(path, child)], label)
        problems += thumbnail_mismatches(row, dataset.images[(path, child)], label)
    assert not problems, "\n".join(problems[:40])


def test_multi_series_ome_tiff_gives_one_image_per_series(tifffile_cli_run: Run) -> None:
    level0 = tifffile_cli_run.df.filter(
        (pl.col("path") == "ome/multi.ome.tif") & (pl.col("obs_level") == 0)
    ).sort("child_id")
    assert level0["child_id"].to_list() == ["0", "1", "2"]
    assert level0["image_name"].to_list() == ["s0", "s1", "s2"]
    assert level0["dim_order"].to_list() == ["YX", "ZYX", "YX"]


def test_corrupt_tiff_is_a_row_and_the_cli_says_so(tifffile_cli_run: Run) -> None:
    rows = tifffile_cli_run.df.filter(pl.col("path").str.starts_with("broken/"))
    assert rows["path"].to_list() == ["broken/corrupt.tif"]  # the PNG is skipped
    message = rows["load_error"][0]
    assert "corrupt.tif" in message and "\n" not in message
    assert tifffile_cli_run.returncode == 0
    summary = tifffile_cli_run.stdout.strip().splitlines()[-1]
    assert " 1 failed," in summary and "WARNING: 1 failed to load" in summary, summary


def test_skipped_extensions_are_counted_in_summary_and_footer(tifffile_cli_run: Run) -> None:
    skipped = {"png": 2, "jpg": 1, "zarr": 1, "txt": 1, "md": 1}
    assert tifffile_cli_run.meta.counts["skipped_by_extension"] == skipped
    summary = tifffile_cli_run.stdout.strip().splitlines()[-1]
    assert "skipped by extension: 2 png, 1 jpg, 1 md, 1 txt, 1 zarr" in summary, summary
    assert not tifffile_cli_run.df["file_extension"].is_in(list(skipped)).any()
