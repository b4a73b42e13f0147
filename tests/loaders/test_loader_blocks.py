"""Lazy arrays: chunking of large images, block-wise reads, pickling, reading only what
is asked for."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest

from pixel_patrol_base.loaders import lazy
from pixel_patrol_base.loaders.lazy import BlockSource, plan_chunks
from pixel_patrol_base.plugins.registry import get_loader

from .loader_samples import Sample


def _source(array: Any) -> BlockSource:
    found = [v for v in dict(array.dask).values() if isinstance(v, BlockSource)]
    assert len(found) == 1
    return found[0]


def test_small_image_is_one_chunk() -> None:
    assert plan_chunks((4, 3, 100, 100), "CZYX", 2) == (4, 3, 100, 100)


def test_large_image_is_chunked_by_planes_then_rows() -> None:
    plane = 100 * 100 * 2
    assert plan_chunks((4, 3, 100, 100), "CZYX", 2, target=2 * plane) == (1, 2, 100, 100)
    assert plan_chunks((4, 3, 100, 100), "CZYX", 2, target=6 * plane) == (2, 3, 100, 100)
    assert plan_chunks((2, 100, 100), "ZYX", 2, target=plane // 4) == (1, 25, 100)
    assert plan_chunks((2, 100, 100, 3), "ZYXS", 1, target=150) == (1, 1, 50, 3)
    # rounded to whole storage chunks along split axes
    assert plan_chunks((2, 100, 100), "ZYX", 2, (1, 32, 32), target=plane // 4) == (1, 32, 100)


@pytest.mark.parametrize(
    ("loader_id", "name", "target"),
    [("tifffile", "tiled", 1000), ("zarr", "pyramid_v05", 1000), ("bioio", "tiled", 40_000),
     ("zarr", "plain_v3", 1000)],
)  # fmt: skip
def test_block_wise_reads_of_a_large_image_equal_the_image(
    loader_id: str,
    name: str,
    target: int,
    samples: dict[str, Sample],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lazy, "CHUNK_BYTES", target)
    loader = get_loader(loader_id)
    sample = samples[name]
    info = loader.read_header(sample.path)[0]
    want = sample.images[None].data
    array = loader.open_array(sample.path, info)
    assert max(array.chunks[0]) == 1  # one plane per chunk...
    assert max(array.chunks[1]) < want.shape[1]  # ...split into bands of rows
    np.testing.assert_array_equal(array.compute(), want)
    got = np.concatenate([array.blocks[1, i].compute() for i in range(array.numblocks[1])], 1)
    np.testing.assert_array_equal(got, want[1:2])


def test_a_sliced_plane_reads_only_that_plane(
    samples: dict[str, Sample], monkeypatch: pytest.MonkeyPatch
) -> None:
    loader = get_loader("tifffile")
    sample = samples["tczyx"]
    info = loader.read_header(sample.path)[0]
    array = loader.open_array(sample.path, info)
    assert array.npartitions == 1
    source = _source(array)
    keys: list[tuple[slice, ...]] = []
    read = source._read

    def spy(handle: Any, key: tuple[slice, ...]) -> Any:
        keys.append(key)
        return read(handle, key)

    monkeypatch.setattr(source, "_read", spy)
    np.testing.assert_array_equal(array[1, 2, 3].compute(), sample.images[None].data[1, 2, 3])
    assert keys == [(slice(1, 2), slice(2, 3), slice(3, 4), slice(0, 30), slice(0, 40))]


@pytest.mark.parametrize(("loader_id", "name"), [("tifffile", "multi"), ("bioio", "tczyx"),
                                                 ("zarr", "bf2raw")])  # fmt: skip
def test_lazy_arrays_survive_pickling(
    loader_id: str, name: str, samples: dict[str, Sample]
) -> None:
    loader = get_loader(loader_id)
    sample = samples[name]
    info = loader.read_header(sample.path)[-1]
    array = loader.open_array(sample.path, info)
    copy = pickle.loads(pickle.dumps(array))
    np.testing.assert_array_equal(copy.compute(), array.compute())
    source = pickle.loads(pickle.dumps(_source(array)))
    assert source._handle is None  # the file is reopened where the copy is used
    np.testing.assert_array_equal(source[...], array.compute())


def test_dask_names_are_deterministic_and_per_image(samples: dict[str, Sample]) -> None:
    loader = get_loader("tifffile")
    path = samples["multi"].path
    infos = loader.read_header(path)
    names = [loader.open_array(path, i).name for i in infos]
    assert len(set(names)) == len(infos)
    assert loader.open_array(path, infos[0]).name == names[0]
