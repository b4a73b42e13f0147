"""The default ``bioio`` loader through the real pipeline: every metric of every row.

One Snakemake run processes the whole dataset (TIFF of four dtypes, OME-TIFF 2D, ZYX, CYX
and TCZYX, a multi-series OME-TIFF, RGB PNG and JPEG, two 4 MiB images, a Zarr store
that no installed bioio plugin reads, a corrupt TIFF and a truncated PNG); each image's
rows are compared with plain NumPy on the array written. The Zarr store goes to the zarr
reader (the fallback), so its rows match those of the ``zarr`` loader.
"""

from __future__ import annotations

import polars as pl
import pytest

from .compare import frame_rows, header_mismatches, image_mismatches, thumbnail_mismatches
from .conftest import Run
from .dataset import Dataset, Key

pytestmark = pytest.mark.slow


def _child(key: Key) -> str | None:
    """bioio names the scenes of a multi-series OME-TIFF 'Image:<n>'; Zarr keeps its series."""
    path, child = key
    if child is None or path.endswith(".zarr"):
        return child
    return f"Image:{child}"


def _images(dataset: Dataset) -> list[Key]:
    return list(dataset.images)


def test_every_metric_of_every_row_matches_numpy(bioio_run: Run, dataset: Dataset) -> None:
    problems: list[str] = []
    for key in _images(dataset):
        rows = frame_rows(bioio_run.df, key[0], _child(key))
        problems += image_mismatches(rows, dataset.images[key], f"{key[0]}[{key[1]}]")
    assert not problems, "\n".join(problems[:40])


def test_headers_and_thumbnails(bioio_run: Run, dataset: Dataset) -> None:
    problems: list[str] = []
    for key in _images(dataset):
        level0 = frame_rows(bioio_run.df, key[0], _child(key)).filter(pl.col("obs_level") == 0)
        assert level0.height == 1, key
        row = level0.row(0, named=True)
        label = f"{key[0]}[{key[1]}]"
        assert row["load_error"] is None and row["processor_errors"] is None, (label, row)
        problems += header_mismatches(row, dataset.images[key], label)
        problems += thumbnail_mismatches(row, dataset.images[key], label)
    assert not problems, "\n".join(problems[:40])


def test_broken_files_are_rows_with_load_error(bioio_run: Run, dataset: Dataset) -> None:
    for path in dataset.broken:
        rows = bioio_run.df.filter(pl.col("path") == path)
        assert rows.height == 1, path
        row = rows.row(0, named=True)
        assert row["obs_level"] == 0 and row["load_error"], row
        assert "\n" not in row["load_error"]
        assert path.rsplit("/", 1)[1] in row["load_error"], row["load_error"]
        assert row["size_bytes"] > 0 and row["name"] == path.rsplit("/", 1)[1]
        assert row["min_intensity"] is None and row["histogram_counts"] is None
    errors = dict(
        bioio_run.df.filter(pl.col("path").is_in(list(dataset.broken)))
        .select("path", "load_error")
        .iter_rows()
    )
    assert "truncated" in errors["broken/truncated.png"]
    assert "holds no image" in errors["broken/corrupt.tif"]


def test_a_zarr_store_without_its_bioio_plugin_is_read_by_the_zarr_reader(bioio_run: Run) -> None:
    level0 = bioio_run.df.filter(
        (pl.col("path") == "stores/multi.zarr") & (pl.col("obs_level") == 0)
    ).sort("child_id")
    assert level0["child_id"].to_list() == ["0", "1"]
    assert level0["load_error"].is_null().all()
    assert level0["format_reader"].to_list() == ["zarr", "zarr"]


def test_run_counts_failures_and_skipped_extensions(bioio_run: Run, dataset: Dataset) -> None:
    n_images = len(_images(dataset))
    failed = len(dataset.broken)
    assert bioio_run.summary["images"] == n_images
    assert bioio_run.summary["failed"] == failed
    assert bioio_run.summary["skipped_by_extension"] == {"md": 1, "txt": 1}
    counts = bioio_run.meta.counts
    assert counts["failed"] == failed and counts["images"] == n_images
    assert counts["skipped_by_extension"] == {"md": 1, "txt": 1}
    assert not bioio_run.df["path"].is_in(list(dataset.other)).any()


def test_footer_records_loader_and_every_processor_version(bioio_run: Run) -> None:
    meta = bioio_run.meta
    assert meta.loader == "bioio"
    assert set(meta.processors) == {
        "raster-basic",
        "raster-histogram",
        "thumbnail",
        "raster-quality",
        "raster-compression",
        "raster-qc",
        "raster-hash",
    }
    assert all(isinstance(v, str) and v for v in meta.processors.values())
