"""The fallback chain of the ``bioio`` loader, on CZI and TIFF files written here and on
fakes.

CZI files are written with pylibCZIrw (installed with bioio-czi): a full grid, which
bioio-czi reads as aicspylibczi stores it, so bioio's reading stands; a scene whose
planes are no full grid, which bioio-czi fills with zeros; and a mosaic of two tiles
with a gap between them, which bioio-czi stitches. TIFFs with axes bioio-tifffile has no
letter for, whose planes beyond the first it drops. The chain's decisions (bioio fails,
the library fails, both fail, the library is missing) are checked with fake readers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pixel_patrol_base.errors import ImageLoadError, MissingFormatPluginError
from pixel_patrol_base.loaders.bioio import fallback
from pixel_patrol_base.plugins import get_loader
from pixel_patrol_base.plugins.contracts import ImageInfo

pyczi = pytest.importorskip("pylibCZIrw.czi", reason="needs pixel-patrol[formats]")


def _plane(value: int, shape: tuple[int, int] = (20, 30)) -> np.ndarray:
    return np.full(shape, value, np.uint16) + np.arange(shape[1], dtype=np.uint16)


def _write_czi(path: Path, planes: dict[tuple[int, int, int], np.ndarray], **meta: Any) -> Path:
    """A CZI of ``(C, Z, M-location x) -> pixels`` planes, written by pylibCZIrw."""
    with pyczi.create_czi(str(path), exist_ok=True) as writer:
        for (c, z, x), pixels in planes.items():
            writer.write(data=pixels, plane={"C": c, "Z": z, "T": 0}, location=(x, 0))
        writer.write_metadata(document_name=path.stem, **meta)
    return path


def test_a_full_grid_keeps_bioio_czis_reading(tmp_path: Path) -> None:
    planes = {(c, z, 0): _plane(10 * c + z) for c in range(2) for z in range(3)}
    path = _write_czi(tmp_path / "grid.czi", planes, scale_x=0.2e-6, scale_y=0.2e-6)
    loader = get_loader("bioio")
    [info] = loader.read_header(path)
    assert info.extra["format_reader"] == "bioio-czi"
    assert "load_warnings" not in info.extra
    assert (info.dim_order, info.shape) == ("CZYX", (2, 3, 20, 30))
    expected = np.stack([np.stack([planes[(c, z, 0)] for z in range(3)]) for c in range(2)])
    np.testing.assert_array_equal(loader.read_array(path, info), expected)


def test_planes_that_are_no_full_grid_are_split_not_filled(tmp_path: Path) -> None:
    planes = {(c, z, 0): _plane(10 * c + z + 1) for c in range(2) for z in range(3)}
    planes[(2, 0, 0)] = _plane(99)
    path = _write_czi(tmp_path / "ragged.czi", planes, channel_names={0: "DAPI", 1: "GFP"})
    loader = get_loader("bioio")
    first, second = loader.read_header(path)
    assert [first.child_id, second.child_id] == ["C0-1", "C2"]
    assert {first.extra["format_reader"], second.extra["format_reader"]} == {"aicspylibczi"}
    assert (first.dim_order, first.shape) == ("CZYX", (2, 3, 20, 30))
    assert (second.dim_order, second.shape) == ("YX", (20, 30))
    assert first.channel_names == ("DAPI", "GFP")
    said = first.extra["load_warnings"]
    assert said[0].startswith("bioio-czi presents the file as CZYX (3, 3, 20, 30)")
    assert "5,400 pixels where the file stores 4,200" in said[0]
    assert "split by C into 2 images: this one holds C 0–1, Z 0–2" in said[1]
    stored = np.concatenate([p.ravel() for p in planes.values()])
    read = [loader.read_array(path, info) for info in (first, second)]
    lazy = [np.asarray(loader.open_array(path, info)) for info in (first, second)]
    for mine in (read, lazy):
        np.testing.assert_array_equal(np.sort(np.concatenate([a.ravel() for a in mine])),
                                      np.sort(stored))  # fmt: skip
    np.testing.assert_array_equal(read[1], planes[(2, 0, 0)])


def test_a_mosaic_is_its_tiles_not_the_stitched_gap(tmp_path: Path) -> None:
    tiles = {(0, 0, 0): _plane(100), (0, 0, 50): _plane(200)}
    path = _write_czi(tmp_path / "mosaic.czi", tiles, scale_x=0.5e-6, scale_y=0.5e-6)
    loader = get_loader("bioio")
    [info] = loader.read_header(path)
    assert info.extra["format_reader"] == "aicspylibczi"
    assert (info.dim_order, info.shape) == ("YXM", (20, 30, 2))
    assert info.pixel_sizes == pytest.approx({"X": 0.5, "Y": 0.5})
    assert info.pixel_size_unit == "µm"
    said = info.extra["load_warnings"]
    assert said[0] == (
        "bioio-czi presents this image as YX (20, 80), 1,600 pixels where the file stores "
        "1,200; read with aicspylibczi"
    )
    assert not any("reported as" in line for line in said)  # M is an axis of its own
    pixels = loader.read_array(path, info)
    np.testing.assert_array_equal(pixels, np.stack(list(tiles.values()), axis=-1))
    assert pixels.min() == 100  # no zero-filled gap


class _Library:
    """A fake library reader: answers ``infos``, or raises ``error``."""

    def __init__(self, infos: list[ImageInfo] | None = None, error: Exception | None = None):
        self.infos, self.error = infos, error

    def read_header(self, path: Path) -> list[ImageInfo]:
        if self.error is not None:
            raise self.error
        return list(self.infos or [])

    def open_array(self, path: Path, info: ImageInfo) -> Any:
        raise NotImplementedError

    def read_array(self, path: Path, info: ImageInfo) -> np.ndarray:
        raise NotImplementedError

    def open_thumbnail_array(self, path: Path, info: ImageInfo, min_side: int = 64) -> Any:
        return None


def _info(dim_order: str, shape: tuple[int, ...], reader: str) -> ImageInfo:
    return ImageInfo(None, dim_order, shape, "uint8", extra={"format_reader": reader})


def _chain(library: _Library) -> fallback.Chain:
    return fallback.Chain("fakelib", "fakelib", compare=True, make=lambda: library)


def _bioio_fails() -> list[ImageInfo]:
    raise ImageLoadError("cannot read 'a.fake' with bioio-fake: it broke")


def test_when_bioio_fails_the_library_reads_and_the_row_keeps_bioios_answer() -> None:
    library = _Library([_info("ZYX", (3, 4, 5), "fakelib")])
    [info] = fallback.header(Path("a.fake"), _chain(library), _bioio_fails)
    assert info.extra["format_reader"] == "fakelib"
    assert info.extra["load_warnings"] == ["cannot read 'a.fake' with bioio-fake: it broke"]


def test_when_both_fail_the_error_gives_both_answers() -> None:
    library = _Library(error=ImageLoadError("not a fake file"))
    with pytest.raises(ImageLoadError) as caught:
        fallback.header(Path("a.fake"), _chain(library), _bioio_fails)
    assert str(caught.value) == (
        "cannot read 'a.fake' with bioio-fake: it broke; fakelib: not a fake file"
    )


def test_when_only_bioio_reads_it_bioios_reading_stands() -> None:
    ours = [_info("YX", (4, 5), "bioio-fake")]
    library = _Library(error=ImageLoadError("not a fake file"))
    assert fallback.header(Path("a.fake"), _chain(library), lambda: ours) == ours


def test_a_missing_library_and_plugin_name_the_plugin_to_install() -> None:
    def missing() -> list[ImageInfo]:
        raise MissingFormatPluginError("reading .fake files needs bioio-fake")

    library = _Library(error=ImportError("No module named 'fakelib'"))
    with pytest.raises(MissingFormatPluginError, match="needs bioio-fake"):
        fallback.header(Path("a.fake"), _chain(library), missing)
    with pytest.raises(ImageLoadError, match=r"fakelib is not installed \(pip install fakelib\)"):
        fallback.header(Path("a.fake"), _chain(library), _bioio_fails)


def test_images_read_alike_by_both_get_the_other_images_line() -> None:
    ours = [_info("YX", (4, 5), "bioio-fake"), _info("ZYX", (1, 4, 5), "bioio-fake")]
    theirs = [_info("YX", (4, 5), "fakelib"), _info("TYX", (2, 4, 5), "fakelib")]
    first, second = fallback.header(Path("a.fake"), _chain(_Library(theirs)), lambda: ours)
    assert first.extra["load_warnings"] == [
        "bioio-fake misreads other images of this file; all are read with fakelib"
    ]
    assert second.extra["load_warnings"] == [
        "bioio-fake presents this image as ZYX (1, 4, 5), 20 pixels where the file stores "
        "40; read with fakelib"
    ]


@pytest.mark.parametrize(
    ("axes", "shape", "bioio_view", "dim_order"),
    [
        ("RYX", (2, 8, 9), "YX (8, 9), 72 pixels where the file stores 144", "YXR"),
        ("EHYX", (2, 3, 8, 9), "YX (8, 9), 72 pixels where the file stores 432", "YXEH"),
        ("TZQCYX", (2, 2, 2, 2, 8, 9),
         "TCZYX (2, 2, 2, 8, 9), 576 pixels where the file stores 1,152", "TCZYXQ"),
    ],
)  # fmt: skip
def test_a_tiff_axis_bioio_tifffile_drops_is_read_by_the_tifffile_loader(
    tmp_path: Path, axes: str, shape: tuple[int, ...], bioio_view: str, dim_order: str
) -> None:
    import tifffile

    pixels = np.arange(np.prod(shape), dtype=np.uint16).reshape(shape)
    path = tmp_path / f"{axes.lower()}.tif"
    tifffile.imwrite(path, pixels, metadata={"axes": axes}, photometric="minisblack")
    loader = get_loader("bioio")
    [info] = loader.read_header(path)
    assert info.extra["format_reader"] == "tifffile"
    assert info.dim_order == dim_order
    assert info.extra["load_warnings"] == [
        f"bioio-tifffile presents this image as {bioio_view}; read with tifffile"
    ]
    [own] = get_loader("tifffile").read_header(path)
    assert (own.dim_order, own.shape) == (info.dim_order, info.shape)
    read = loader.read_array(path, info)
    assert read.size == pixels.size
    np.testing.assert_array_equal(np.sort(read, axis=None), np.sort(pixels, axis=None))
    np.testing.assert_array_equal(np.asarray(loader.open_array(path, info)), read)


@pytest.mark.slow
def test_process_verbose_prints_each_hand_over(tmp_path: Path) -> None:
    import subprocess
    import sys

    import tifffile

    base = tmp_path / "data"
    base.mkdir()
    pixels = np.arange(2 * 8 * 9, dtype=np.uint16).reshape(2, 8, 9)
    tifffile.imwrite(base / "ryx.tif", pixels, metadata={"axes": "RYX"}, photometric="minisblack")
    tifffile.imwrite(base / "plain.tif", pixels[0])
    out = tmp_path / "report.parquet"
    command = [sys.executable, "-m", "pixel_patrol_base.cli", "process", str(base), "-o", str(out)]
    loud = subprocess.run([*command, "-v"], capture_output=True, text=True, timeout=300)
    assert loud.returncode == 0, loud.stderr
    [line] = [ln for ln in loud.stderr.splitlines() if "is read with" in ln]
    assert "ryx.tif' is read with tifffile: bioio-tifffile presents this image as YX" in line
    out.unlink()
    quiet = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert quiet.returncode == 0 and "is read with" not in quiet.stderr
