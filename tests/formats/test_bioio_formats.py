"""The default ``bioio`` loader through the real pipeline: every metric of every row.

One Snakemake run processes the whole dataset (TIFF of four dtypes, OME-TIFF 2D, ZYX, CYX
and TCZYX, a multi-series OME-TIFF, RGB PNG and JPEG, two 4 MiB images, a Zarr store
that needs a plugin bioio lacks here, a corrupt TIFF and a truncated PNG); each image's
rows are compared with plain NumPy on the array written.
"""

from __future__ import annotations

import polars as pl
import pytest

from .compare import frame_rows, header_mismatches, image_mismatches, thumbnail_mismatches
from .conftest import Run
from .dataset import Dataset, Key

pytestmark = pytest.mark.slow


def _child(key: Key) -> str | None:
    """bioio names the scenes of a multi-series OME-TIFF 'Image:<n>'."""
    child = key[1]
    return None if child is None else f"Image:{child}"


def _images(dataset: Dataset) -> list[Key]:
    return [k for k in dataset.images if not k[0].endswith(".zarr")]


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


def test_a_zarr_store_without_its_bioio_plugin_names_the_package(bioio_run: Run) -> None:
    rows = bioio_run.df.filter(pl.col("path") == "stores/multi.zarr")
    assert rows.height == 1
    message = rows["load_error"][0]
    assert "bioio-ome-zarr" in message and "pip install" in message


def test_run_counts_failures_and_skipped_extensions(bioio_run: Run, dataset: Dataset) -> None:
    n_images = len(_images(dataset))
    failed = len(dataset.broken) + 1  # the Zarr store
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
