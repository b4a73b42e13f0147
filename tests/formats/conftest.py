"""Fixtures of the format tests: one real dataset, one real pipeline run per loader.

The dataset is written once per session (:mod:`.dataset`); each loader processes it in a
single real Snakemake run (the API for bioio and zarr, the CLI for tifffile), and a
fourth run processes the large images block by block (``mb_per_task`` = 1).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from .dataset import Dataset, write_dataset


@dataclass
class Run:
    """A finished run: the report, its footer metadata and the run summary (or CLI output)."""

    df: pl.DataFrame
    meta: Any
    summary: dict[str, Any]
    stdout: str = ""
    returncode: int = 0
    report: Path | None = None


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """Every file of the format tests, written once."""
    return write_dataset(tmp_path_factory.mktemp("formats") / "data")


def _api_run(dataset: Dataset, out: Path, loader: str, **kwargs: Any) -> Run:
    from pixel_patrol_base import api

    paths = kwargs.pop("paths", None)
    project = api.create_project("formats", dataset.base, loader=loader, output_path=out)
    if paths:
        project = api.add_paths(project, paths)
    project = api.process_files(project, max_workers=2, **kwargs)
    df, meta = api.load(out)
    assert project.last_run is not None
    return Run(df, meta, project.last_run)


@pytest.fixture(scope="session")
def bioio_run(dataset: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The default loader, every processor, the whole dataset."""
    return _api_run(dataset, tmp_path_factory.mktemp("bioio") / "report.parquet", "bioio")


@pytest.fixture(scope="session")
def zarr_run(dataset: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The zarr loader: the Zarr store only, everything else skipped by extension."""
    return _api_run(dataset, tmp_path_factory.mktemp("zarr") / "report.parquet", "zarr")


@pytest.fixture(scope="session")
def blockwise_run(dataset: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The large images with a 1 MiB task budget, so they are read block by block."""
    out = tmp_path_factory.mktemp("blockwise") / "report.parquet"
    return _api_run(dataset, out, "bioio", paths=["large"], mb_per_task=1)


@pytest.fixture(scope="session")
def tifffile_cli_run(dataset: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """``pixel-patrol process -l tifffile`` on the whole dataset, as a user runs it."""
    from pixel_patrol_base import api

    out = tmp_path_factory.mktemp("tifffile") / "report.parquet"
    script = Path(sys.executable).with_name("pixel-patrol")
    launcher = [str(script)] if script.exists() else [sys.executable, "-m", "pixel_patrol_base.cli"]
    command = [
        *launcher, "process", str(dataset.base), "-o", str(out), "-l", "tifffile",
        "--max-workers", "2",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    df, meta = api.load(out)
    return Run(df, meta, {}, stdout=done.stdout, returncode=done.returncode)
