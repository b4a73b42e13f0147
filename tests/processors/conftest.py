"""Fixtures of the processor tests: the built-in processors, loaded as plugins."""

from __future__ import annotations

import pytest

from pixel_patrol_base.plugins.contracts import Processor
from pixel_patrol_base.plugins.registry import get_processor

BUILT_IN = ("raster-basic", "raster-histogram", "thumbnail", "raster-quality", "raster-compression")


@pytest.fixture(scope="session")
def processors() -> list[Processor]:
    """The five built-in processors, loaded through their entry points."""
    return [get_processor(pid) for pid in BUILT_IN]
