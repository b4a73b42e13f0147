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
