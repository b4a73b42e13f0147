"""Images larger than mb_per_task: block-wise reads, tiled planes, bounded memory."""

from __future__ import annotations

import math
import tracemalloc
from typing import Any

import dask.array as da
import numpy as np
import pytest
from numpy_reference import assert_same, expected

from pixel_patrol_base.imaging.engine import process_image
from pixel_patrol_base.plugins.contracts import ImageInfo, Processor

TINY_MB = 0.002  # 2 KiB: 256-pixel tiles, one leaf per read


def _image(shape: tuple[int, ...], dtype: Any, seed: int, nan: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : shape[-2], 0 : shape[-1]]
    base = 2000 + 1500 * np.sin(x / 4.0) * np.cos(y / 6.0) + 900 * (x > shape[-1] // 3)
    data = np.broadcast_to(base, shape) + rng.normal(0, 40, size=shape)
    if np.dtype(dtype).kind in "iu":
        data = np.clip(data, np.iinfo(dtype).min, np.iinfo(dtype).max)
    data = data.astype(dtype)
    if nan:
        data[rng.random(shape) < 0.03] = np.nan
    return data


CASES: dict[str, tuple[str, np.ndarray]] = {
    "zyx-uint16": ("ZYX", _image((3, 61, 83), np.uint16, 1)),
    "yx-int16": ("YX", _image((97, 70), np.int16, 2)),
    "zyx-float32-nan": ("ZYX", _image((2, 50, 66), np.float32, 3, nan=True)),
    "yx-float64": ("YX", _image((45, 58), np.float64, 4)),
    "tcyx-uint8": ("TCYX", _image((3, 2, 40, 35), np.uint8, 5)),
}


def _rows(
    array: Any, order: str, processors: list[Processor], **settings: Any
) -> list[dict[str, Any]]:
    info = ImageInfo(None, order, tuple(array.shape), str(array.dtype))
    settings.setdefault("slice_size", {})
    return process_image(array, info, processors, **settings).rows


def _assert_rows_equal(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert a.keys() == b.keys()
        for name in a:
            assert_same(a[name], b[name], name)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("slice_size", [{}, {"Z": 2, "T": 2}, {"Z": -1, "C": -1, "T": -1}])
def test_blockwise_equals_in_memory(
    case: str, slice_size: dict[str, int], processors: list[Processor]
) -> None:
    order, array = CASES[case]
    in_memory = _rows(array, order, processors, slice_size=slice_size, mb_per_task=64)
    chunks = tuple(1 if a not in "YX" else 17 for a in order)
    lazy = da.from_array(array, chunks=chunks)
    blockwise = _rows(lazy, order, processors, slice_size=slice_size, mb_per_task=TINY_MB)
    _assert_rows_equal(blockwise, in_memory)
    for row in blockwise:
        for name, value in expected(array, order, row).items():
            merged = array.dtype.kind == "f" and row["obs_level"] < max(
                r["obs_level"] for r in blockwise
            )
            if not (merged and name.startswith("histogram")):
                assert_same(row[name], value, name)


def test_tiled_plane_of_numpy_array_equals_whole_plane(processors: list[Processor]) -> None:
    """A plane larger than the tile budget, already in memory, is still cut into tiles."""
    order, array = CASES["yx-int16"]
    whole = _rows(array, order, processors, mb_per_task=64)
    tiled = _rows(array, order, processors, mb_per_task=TINY_MB)
    _assert_rows_equal(tiled, whole)


class RecordingArray:
    """A lazy array that records the size of every region read from it."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data
        self.shape = data.shape
        self.dtype = data.dtype
        self.reads: list[int] = []

    def __getitem__(self, index: Any) -> np.ndarray:
        part = self.data[index]
        self.reads.append(part.nbytes)
        return part


def test_large_image_is_read_in_bounded_blocks(processors: list[Processor]) -> None:
    order, array = CASES["zyx-uint16"]
    source = RecordingArray(array)
    budget = 0.004
    rows = _rows(source, order, processors, mb_per_task=budget)
    assert source.reads, "nothing was read"
    largest = max(source.reads)
    # a tile's core (budget / 16 pixels, at least 256) plus a two-pixel halo
    core = max(256, int(budget * 2**20) // 16)
    side = math.isqrt(core)
    assert largest <= (side + 4) * (core // side + 4) * array.itemsize
    _assert_rows_equal(rows, _rows(array, order, processors, mb_per_task=64))


def test_thumbnail_only_reads_middle_time_point(processors: list[Processor]) -> None:
    array = _image((5, 2, 30, 30), np.uint16, 6)
    source = RecordingArray(array)
    rows = _rows(source, "TCYX", [processors[2]], mb_per_task=0.001)
    assert sum(source.reads) == array[2].nbytes
    assert rows[0]["thumbnail"] is not None


def test_peak_memory_stays_near_the_budget(processors: list[Processor]) -> None:
    """A 64 MiB image with a 4 MiB budget: the traced peak stays far below the image."""
    shape, chunks = (32, 1024, 1024), (1, 256, 1024)
    rng = da.random.default_rng(7)
    lazy = rng.integers(0, 4000, size=shape, chunks=chunks, dtype=np.uint16)
    info = ImageInfo(None, "ZYX", shape, "uint16")
    tracemalloc.start()
    try:
        rows = process_image(lazy, info, processors[:2], slice_size={}, mb_per_task=4).rows
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    image_bytes = math.prod(shape) * 2
    assert rows[0]["finite_pixel_count"] == math.prod(shape)
    assert peak < image_bytes / 2, f"peak {peak / 2**20:.1f} MiB"


def test_result_of_an_image_is_independent_of_the_chunking(processors: list[Processor]) -> None:
    order, array = CASES["zyx-float32-nan"]
    a = _rows(da.from_array(array, chunks=(1, 50, 66)), order, processors, mb_per_task=TINY_MB)
    b = _rows(da.from_array(array, chunks=(2, 7, 9)), order, processors, mb_per_task=TINY_MB)
    _assert_rows_equal(a, b)
