"""The built-in loaders against the Loader Protocol, and the level-0 header row."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import pytest

from pixel_patrol_base.loaders.common import EXTRA_COLUMNS, header_row
from pixel_patrol_base.plugins.contracts import ImageInfo, Loader, ThumbnailArraySource
from pixel_patrol_base.plugins.registry import get_loader, loader_ids
from pixel_patrol_base.plugins.testing import check_installed_loader
from pixel_patrol_base.table import catalog

from .loader_samples import Sample

BUILT_IN = ("bioio", "tifffile", "zarr")


def _protocol_members(protocol: type) -> dict[str, Callable[..., Any] | None]:
    """Members a Protocol declares: annotated attributes and methods, from its own body."""
    members: dict[str, Callable[..., Any] | None] = dict.fromkeys(protocol.__annotations__)
    members.update(
        {n: v for n, v in vars(protocol).items() if callable(v) and not n.startswith("_")}
    )
    return members


@pytest.mark.parametrize("loader_id", BUILT_IN)
def test_loader_conforms_to_the_protocol(loader_id: str) -> None:
    assert loader_id in loader_ids()
    loader = get_loader(loader_id)
    assert isinstance(loader, Loader)
    assert isinstance(loader, ThumbnailArraySource)
    for protocol in (Loader, ThumbnailArraySource):
        for name, declared in _protocol_members(protocol).items():
            assert hasattr(loader, name), f"{loader_id} lacks {name}"
            if declared is None:
                continue
            want = list(inspect.signature(declared).parameters)[1:]  # drop self
            got = list(inspect.signature(getattr(loader, name)).parameters)
            assert got == want, f"{loader_id}.{name}{got} differs from the Protocol {want}"
    assert loader.id == loader_id
    assert isinstance(loader.version, str) and loader.version
    assert isinstance(loader.extensions, frozenset) and loader.extensions
    for ext in loader.extensions:
        assert ext == ext.lower() and not ext.startswith(".") and ext.strip() == ext


@pytest.mark.parametrize("loader_id", BUILT_IN)
def test_built_in_loader_passes_the_conformance_helper(loader_id: str) -> None:
    check_installed_loader(loader_id)


def test_bioio_metadata_declares_the_formats_of_its_plugin_table() -> None:
    from pixel_patrol_base.loaders.bioio.routes import FORMAT_PLUGINS
    from pixel_patrol_base.loaders.manifest import BIOIO_METADATA

    assert set(FORMAT_PLUGINS) == BIOIO_METADATA.extensions


def test_extensions_per_loader() -> None:
    assert {"tif", "tiff", "ome.tif", "ome.tiff", "btf"} <= get_loader("tifffile").extensions
    assert get_loader("zarr").extensions == {"zarr", "ome.zarr"}
    bioio = get_loader("bioio").extensions
    assert {"tif", "ome.tif", "png", "jpg", "jpeg", "nd2", "czi", "lif", "ome.zarr"} <= bioio
    assert "mp4" not in bioio and "pdf" not in bioio  # imageio declares them; not images


def test_extra_columns_are_declared_in_the_catalog() -> None:
    for column in EXTRA_COLUMNS:
        assert catalog.lookup(column.name) == column


@pytest.mark.parametrize(
    ("loader_id", "name"),
    [("tifffile", "tczyx"), ("bioio", "tczyx"), ("zarr", "bf2raw"), ("bioio", "rgb_png")],
)
def test_header_row_of_real_files(loader_id: str, name: str, samples: dict[str, Sample]) -> None:
    sample = samples[name]
    infos = get_loader(loader_id).read_header(sample.path)
    for info in infos:
        row = header_row(info, len(infos))
        for column in row:
            assert catalog.lookup(column) is not None, f"{column} is not declared"
        assert row["n_images"] == len(sample.images)
        assert row["shape"] == list(info.shape)
        assert row["ndim"] == len(info.shape)
        assert row["num_pixels"] == math.prod(info.shape)


def test_header_row_fields() -> None:
    info = ImageInfo(
        child_id="1",
        dim_order="CZYXS",
        shape=(2, 3, 4, 5, 3),
        dtype="uint8",
        pixel_sizes={"X": 0.5, "Y": 0.5, "Z": 2.0},
        pixel_size_unit="µm",
        channel_names=("a", "b"),
        extra={"image_name": "scan", "resolution_levels": 1},
    )
    assert header_row(info, 3) == {
        "dim_order": "CZYXS",
        "shape": [2, 3, 4, 5, 3],
        "ndim": 5,
        "dtype": "uint8",
        "n_images": 3,
        "size_c": 2,
        "size_z": 3,
        "size_y": 4,
        "size_x": 5,
        "size_s": 3,
        "num_pixels": 360,
        "pixel_size_x": 0.5,
        "pixel_size_y": 0.5,
        "pixel_size_z": 2.0,
        "pixel_size_unit": "µm",
        "channel_names": ["a", "b"],
        "image_name": "scan",
        "resolution_levels": 1,
    }
    bare = header_row(ImageInfo(None, "YX", (4, 5), "float32"), 1)
    assert bare["pixel_size_unit"] is None and bare["channel_names"] is None
    assert "size_t" not in bare and "pixel_size_x" not in bare


def test_header_row_refuses_undeclared_extra() -> None:
    info = ImageInfo(None, "YX", (4, 5), "uint8", extra={"made_up": 1})
    with pytest.raises(ValueError, match="made_up"):
        header_row(info, 1)
