"""Each loader on real files: headers, child ids, metadata and exact pixels."""

from __future__ import annotations

import numpy as np
import pytest

from pixel_patrol_base.plugins.contracts import ImageInfo, Loader, WholeArrayReader
from pixel_patrol_base.plugins.registry import get_loader

from .loader_samples import Sample

TIFFS = ["u8_2d", "u16_pages", "u16_zyx", "i16_cyx", "f32_nan", "tczyx", "hyperstack",
         "planar_rgb", "multi", "pyramid", "tiled"]  # fmt: skip
PICTURES = ["rgb_png", "grey_png", "rgb_jpg", "rgb_jpeg"]
ZARRS = ["bf2raw", "pyramid_v05", "plain_v2", "plain_v3", "arrays"]
CASES = (
    [("tifffile", n) for n in TIFFS]
    + [("bioio", n) for n in TIFFS + PICTURES]
    + [("zarr", n) for n in ZARRS]
)

BIOIO_SCENES = {"multi": {"Image:0": "0", "Image:1": "1", "Image:2": "2"}}
"""bioio names scenes by their OME id; the sample records series indices."""


def _expected_id(loader: Loader, sample: str, info: ImageInfo) -> str | None:
    if loader.id == "bioio" and info.child_id is not None:
        return BIOIO_SCENES[sample][info.child_id]
    return info.child_id


@pytest.mark.parametrize(("loader_id", "name"), CASES)
def test_header_matches_what_was_written(
    loader_id: str, name: str, samples: dict[str, Sample]
) -> None:
    loader = get_loader(loader_id)
    sample = samples[name]
    infos = loader.read_header(sample.path)
    assert [_expected_id(loader, name, i) for i in infos] == list(sample.images)
    for info in infos:
        want = sample.images[_expected_id(loader, name, info)]
        assert info.dim_order == want.dim_order
        assert info.shape == want.data.shape
        assert info.dtype == want.data.dtype.name
        assert info.channel_names == want.channel_names
        if want.pixel_sizes:
            assert info.pixel_size_unit == want.unit
            assert dict(info.pixel_sizes) == pytest.approx(want.pixel_sizes)
        elif loader_id != "bioio":  # bioio-tifffile reports 1.0 from plain resolution tags
            assert dict(info.pixel_sizes) == {}
        assert info.extra["format_reader"]


@pytest.mark.parametrize(("loader_id", "name"), CASES)
def test_pixels_equal_the_written_array(
    loader_id: str, name: str, samples: dict[str, Sample]
) -> None:
    loader = get_loader(loader_id)
    sample = samples[name]
    for info in loader.read_header(sample.path):
        want = sample.images[_expected_id(loader, name, info)]
        array = loader.open_array(sample.path, info)
        assert array.shape == want.data.shape
        got = array.compute()
        assert got.dtype == want.data.dtype
        np.testing.assert_array_equal(got, want.data)


@pytest.mark.parametrize(("loader_id", "name"), CASES)
def test_read_array_equals_the_written_array(
    loader_id: str, name: str, samples: dict[str, Sample]
) -> None:
    """The in-memory read (what shard jobs use for images within the budget) gives the
    same pixels as the lazy one, including bioio's direct tifffile decode."""
    loader = get_loader(loader_id)
    assert isinstance(loader, WholeArrayReader)
    sample = samples[name]
    for info in loader.read_header(sample.path):
        want = sample.images[_expected_id(loader, name, info)]
        got = loader.read_array(sample.path, info)
        assert isinstance(got, np.ndarray) and got.dtype == want.data.dtype
        np.testing.assert_array_equal(got, want.data)


@pytest.mark.parametrize(
    ("loader_id", "name"),
    [("tifffile", "tczyx"), ("bioio", "tczyx"), ("tifffile", "hyperstack"), ("zarr", "bf2raw")],
)
def test_slices_equal_numpy_slicing(loader_id: str, name: str, samples: dict[str, Sample]) -> None:
    loader = get_loader(loader_id)
    sample = samples[name]
    info = loader.read_header(sample.path)[-1]
    want = sample.images[_expected_id(loader, name, info)].data
    array = loader.open_array(sample.path, info)
    for key in [(0,), (-1, 1), (slice(None), 1), (Ellipsis, slice(3, 9), slice(None, None, -3))]:
        np.testing.assert_array_equal(array[key].compute(), want[key])


@pytest.mark.parametrize(
    ("loader_id", "name", "min_side", "level"),
    [
        ("tifffile", "pyramid", 64, 1),
        ("tifffile", "pyramid", 100, 0),
        ("tifffile", "pyramid", 200, None),
        ("zarr", "pyramid_v05", 40, 1),
        ("zarr", "pyramid_v05", 64, 0),
        ("zarr", "bf2raw", 20, 0),
        ("zarr", "plain_v2", 2, None),
        ("tifffile", "u8_2d", 2, None),
    ],
)
def test_thumbnail_array_is_the_smallest_level_large_enough(
    loader_id: str, name: str, min_side: int, level: int | None, samples: dict[str, Sample]
) -> None:
    loader = get_loader(loader_id)
    sample = samples[name]
    info = loader.read_header(sample.path)[0]
    want = sample.images[info.child_id]
    thumb = loader.open_thumbnail_array(sample.path, info, min_side)  # type: ignore[attr-defined]
    if level is None:
        assert thumb is None
    else:
        np.testing.assert_array_equal(thumb.compute(), want.levels[level])
