"""Shard jobs keep freed memory for reuse where the C library allows it."""

from __future__ import annotations

import platform

import pytest

from pixel_patrol_base.pipeline.shard.allocator import keep_freed_memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_thresholds_are_raised_on_glibc() -> None:
    assert keep_freed_memory(256 * 2**20) is True
