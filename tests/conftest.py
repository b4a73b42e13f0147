"""Shared fixtures: small real datasets on disk and the real workflow run by hand."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from pipeline_helpers import build_tree


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A nested folder with hidden entries, a symlink loop, unicode and spaces in names."""
    return build_tree(tmp_path / "data")


@pytest.fixture
def snakemake_by_hand() -> Callable[[Path], subprocess.CompletedProcess[str]]:
    """Run the workflow by hand on ``<workdir>/config.yaml``, as the Snakefile header says."""
    from pixel_patrol_base import resources

    def run(workdir: Path) -> subprocess.CompletedProcess[str]:
        command = [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(resources.snakefile()),
            "--configfile",
            str(workdir / "config.yaml"),
            "--profile",
            str(resources.profiles_dir() / "local"),
            "--cores",
            "2",
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        return result

    return run


@pytest.fixture(scope="session")
def pipeline_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report made by the real pipeline (bioio loader, all processors) on the example data.

    Two imported paths (``control`` and ``treated``), 2D/ZYX/CYX/RGB images, one corrupt
    TIFF. Built once per test session; treat the returned Parquet as read-only.
    """
    from pixel_patrol_base import api
    from pixel_patrol_base.example import make_example_dataset

    root = tmp_path_factory.mktemp("pipeline_report")
    data = make_example_dataset(root / "data")
    project = api.create_project(
        "example", data, output_path=root / "report.parquet", loader="bioio"
    )
    project = api.add_paths(project, ["control", "treated"])
    api.process_files(project, description="Example dataset for the viewer tests")
    return root / "report.parquet"
