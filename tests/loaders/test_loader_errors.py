"""Broken files and missing plugins give one-line, typed errors that name the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from pixel_patrol_base.errors import ImageLoadError, MissingFormatPluginError, PixelPatrolError
from pixel_patrol_base.loaders.bioio import routes
from pixel_patrol_base.plugins.contracts import ImageInfo
from pixel_patrol_base.plugins.registry import get_loader

from .loader_samples import Sample


def _load_everything(loader_id: str, path: Path) -> None:
    loader = get_loader(loader_id)
    for info in loader.read_header(path):
        loader.open_array(path, info).compute()


def _assert_one_line(error: pytest.ExceptionInfo[ImageLoadError], name: str) -> None:
    message = str(error.value)
    assert "\n" not in message and "Traceback" not in message
    assert name in message
    assert len(message) <= 300


@pytest.mark.parametrize(
    ("loader_id", "name"),
    [("tifffile", "corrupt.tif"), ("bioio", "corrupt.tif"), ("bioio", "truncated.png"),
     ("zarr", "not_a_store.zarr"), ("zarr", "corrupt.tif"), ("bioio", "not_a_store.zarr")],
)  # fmt: skip
def test_a_broken_file_raises_one_line_image_load_error(
    loader_id: str, name: str, broken: dict[str, Path]
) -> None:
    with pytest.raises(ImageLoadError) as error:
        _load_everything(loader_id, broken[name])
    _assert_one_line(error, name)
    assert isinstance(error.value, PixelPatrolError)


def test_bioio_says_what_each_plugin_answered(broken: dict[str, Path]) -> None:
    with pytest.raises(ImageLoadError) as error:
        get_loader("bioio").read_header(broken["corrupt.tif"])
    assert "bioio-ome-tiff:" in str(error.value)
    assert "bioio-tifffile:" in str(error.value)
    assert "not a TIFF file" in str(error.value)


@pytest.mark.parametrize(
    ("name", "package"),
    [("sample.nd2", "bioio-nd2")],
)
def test_missing_bioio_plugin_names_the_package(
    name: str, package: str, broken: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The test environment installs the format plugins: hide this one, as a default
    # install (without pixel-patrol[formats]) lacks it.
    installed = {k: v for k, v in routes._installed().items() if k != package}
    monkeypatch.setattr(routes, "_installed", lambda: installed)
    loader = get_loader("bioio")
    assert name.split(".", 1)[1] in loader.extensions  # claimed, so never silently skipped
    with pytest.raises(MissingFormatPluginError) as error:
        loader.read_header(broken[name])
    _assert_one_line(error, name)
    assert f"pip install {package}" in str(error.value)
    assert "pixel-patrol[formats]" in str(error.value)


def test_a_file_changed_since_its_header_was_read_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "changing.tif"
    tifffile.imwrite(path, np.zeros((2, 8, 8), np.uint8))
    loader = get_loader("tifffile")
    info = loader.read_header(path)[0]
    tifffile.imwrite(path, np.zeros((3, 8, 8), np.uint8), photometric="minisblack")
    with pytest.raises(ImageLoadError, match="changed since its header was read"):
        loader.open_array(path, info)
    with pytest.raises(ImageLoadError, match="changed since its header was read"):
        loader.read_array(path, info)


def test_an_unknown_child_is_an_error(samples: dict[str, Sample]) -> None:
    path = samples["bf2raw"].path
    info = ImageInfo(child_id="7", dim_order="YX", shape=(2, 2), dtype="uint8")
    with pytest.raises(ImageLoadError, match=r"bf2raw\.ome\.zarr"):
        get_loader("zarr").open_array(path, info)


def test_a_decode_failure_while_computing_is_an_image_load_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.tif"
    tifffile.imwrite(
        path, np.arange(4 * 64 * 64, dtype=np.uint16).reshape(4, 64, 64), photometric="minisblack"
    )
    loader = get_loader("tifffile")
    info = loader.read_header(path)[0]
    array = loader.open_array(path, info)
    with path.open("r+b") as f:  # header intact, pixel data cut short
        f.truncate(4096)
    with pytest.raises(ImageLoadError) as error:
        array.compute()
    _assert_one_line(error, "cut.tif")
    for loader_id in ("tifffile", "bioio"):
        with pytest.raises(ImageLoadError) as error:
            get_loader(loader_id).read_array(path, info)
        _assert_one_line(error, "cut.tif")
