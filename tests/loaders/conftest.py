"""Fixtures of the loader tests: real files written once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from .loader_samples import Sample, write_broken, write_samples


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Sample]:
    """Every valid sample file, by short name."""
    return write_samples(tmp_path_factory.mktemp("images"))


@pytest.fixture(scope="session")
def broken(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Files that must fail with a clear error, by file name."""
    return write_broken(tmp_path_factory.mktemp("broken"))
