"""The bioio loader's direct route equals bioio itself, file by file.

For plain TIFFs and single-frame pictures the bioio loader reads headers and pixels
without bioio (the direct route of ``loaders/bioio/``). Each file here is read twice: by the
loader as it is, and with the direct route switched off, so that bioio and its plugin
read it. Headers (axes, shape, dtype, pixel sizes, channel names, extra columns) and
pixels must be identical.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile

from pixel_patrol_base.loaders.bioio import fallback, routes
from pixel_patrol_base.plugins.contracts import ImageInfo
from pixel_patrol_base.plugins.registry import get_loader

from .loader_samples import Sample

RNG = np.random.default_rng(7)

DIRECT_SAMPLES = ["u8_2d", "u16_pages", "u16_zyx", "i16_cyx", "f32_nan", "tczyx", "hyperstack",
                  "planar_rgb", "multi", "pyramid", "tiled", "rgb_png", "grey_png", "rgb_jpg",
                  "rgb_jpeg"]  # fmt: skip
"""Every TIFF and picture sample: bioio reads them with bioio-tifffile, bioio-ome-tiff or
bioio-imageio, so the direct route answers for all of them."""


def _u8(*shape: int) -> np.ndarray:
    return RNG.integers(0, 256, size=shape, dtype=np.uint8)


def _u16(*shape: int) -> np.ndarray:
    return RNG.integers(0, 65536, size=shape, dtype=np.uint16)


@pytest.fixture(scope="module")
def edge_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Plain TIFFs and pictures that exercise the direct route's rules."""
    d = tmp_path_factory.mktemp("direct")
    tifffile.imwrite(d / "cm.tif", _u16(20, 30), resolution=(4000.0, 5000.0),
                     resolutionunit="CENTIMETER")  # fmt: skip
    tifffile.imwrite(d / "inch.tif", _u16(20, 30), resolution=(300.0, 300.0),
                     resolutionunit="INCH")  # fmt: skip
    tifffile.imwrite(d / "micron_imagej.tif", _u8(5, 20, 30), imagej=True,
                     resolution=(3.0, 3.0), metadata={"axes": "ZYX", "unit": "micron",
                                                      "spacing": 0.7})  # fmt: skip
    tifffile.imwrite(d / "nm_imagej.tif", _u16(4, 20, 30), imagej=True,
                     resolution=(0.01, 0.01), metadata={"axes": "TYX", "unit": "nm"})  # fmt: skip
    tifffile.imwrite(d / "no_unit_imagej.tif", _u8(2, 20, 30), imagej=True,
                     metadata={"axes": "CYX"})  # fmt: skip
    tifffile.imwrite(d / "rgb.tif", _u8(20, 30, 3), photometric="rgb")
    tifffile.imwrite(d / "tzyx_shaped.tif", _u16(2, 3, 20, 30), metadata={"axes": "TZYX"},
                     photometric="minisblack")  # fmt: skip
    tifffile.imwrite(d / "generic_4d.tif", _u16(2, 3, 20, 30), metadata=None,
                     photometric="minisblack")  # fmt: skip
    with tifffile.TiffWriter(d / "two_series.tif") as tif:
        tif.write(_u8(20, 30), metadata={"axes": "YX"})
        tif.write(_u16(3, 10, 12), metadata={"axes": "ZYX"}, photometric="minisblack")
    tifffile.imwrite(d / "rgb.ome.tif", _u8(20, 30, 3), photometric="rgb")
    tifffile.imwrite(d / "zcyx_square.ome.tif", _u16(3, 3, 20, 30), photometric="minisblack",
                     metadata={"axes": "ZCYX"})  # fmt: skip
    tifffile.imwrite(d / "tzcyx.ome.tif", _u8(2, 3, 2, 20, 30), photometric="minisblack",
                     metadata={"axes": "TZCYX", "PhysicalSizeX": 0.3})  # fmt: skip
    tifffile.imwrite(d / "named.ome.tif", _u16(2, 20, 30), photometric="minisblack",
                     metadata={"axes": "CYX", "Channel": {"Name": ["DAPI", "GFP"]},
                               "PhysicalSizeX": 0.1, "PhysicalSizeXUnit": "nm",
                               "PhysicalSizeY": 0.2})  # fmt: skip
    with tifffile.TiffWriter(d / "scenes.ome.tif") as tif:
        tif.write(_u8(20, 30, 3), photometric="rgb", metadata={"Name": "colour"})
        tif.write(_u16(4, 10, 12), photometric="minisblack", metadata={"axes": "TYX"})
    tifffile.imwrite(d / "bad_xml.ome.tif", _u16(20, 30), photometric="minisblack")
    with tifffile.TiffFile(d / "bad_xml.ome.tif") as tif:
        xml = tif.pages[0].description
    # a negative pixel size: ome-types refuses the OME-XML, tifffile does not mind it
    bad = xml.replace("<Pixels ", '<Pixels PhysicalSizeX="-1" ')
    tifffile.tiffcomment(d / "bad_xml.ome.tif", bad)
    iio.imwrite(d / "grey_alpha.png", _u8(20, 30, 2))
    iio.imwrite(d / "rgba.png", _u8(20, 30, 4))
    iio.imwrite(d / "u16.png", _u16(20, 30))
    iio.imwrite(d / "grey.jpg", _u8(20, 30))
    iio.imwrite(d / "rgb.bmp", _u8(20, 30, 3))
    iio.imwrite(d / "frames.gif", _u8(3, 20, 30), loop=0)  # several frames: through bioio
    return {p.name: p for p in d.iterdir()}


def _read(path: Path) -> tuple[list[ImageInfo], list[np.ndarray]]:
    loader = get_loader("bioio")
    infos = loader.read_header(path)
    return infos, [loader.read_array(path, info) for info in infos]  # type: ignore[attr-defined]


def _read_both(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any, bool]:
    """(direct route's result, bioio's result, whether the direct route answered)."""
    answered = routes.open_direct(path, routes._candidates(path))
    if answered is not None:
        answered.close()
    direct = _read(path)
    with monkeypatch.context() as m:
        m.setattr(routes, "open_direct", lambda path, plugins: None)
        through_bioio = _read(path)
    return direct, through_bioio, answered is not None


def _assert_same(direct: Any, through_bioio: Any) -> None:
    (infos, arrays), (want_infos, want_arrays) = direct, through_bioio
    assert infos == want_infos
    for got, want in zip(arrays, want_arrays, strict=True):
        assert got.dtype == want.dtype
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", DIRECT_SAMPLES)
def test_sample_files_read_the_same_both_ways(
    name: str, samples: dict[str, Sample], monkeypatch: pytest.MonkeyPatch
) -> None:
    direct, through_bioio, answered = _read_both(samples[name].path, monkeypatch)
    assert answered
    _assert_same(direct, through_bioio)


# bioio-tifffile warns when it finds no pixel size (an ImageJ file without a unit).
@pytest.mark.filterwarnings("ignore:Could not parse tiff pixel size")
@pytest.mark.parametrize(
    "name",
    ["cm.tif", "inch.tif", "micron_imagej.tif", "nm_imagej.tif", "no_unit_imagej.tif",
     "rgb.tif", "tzyx_shaped.tif", "generic_4d.tif", "two_series.tif", "rgb.ome.tif",
     "zcyx_square.ome.tif", "tzcyx.ome.tif", "named.ome.tif", "scenes.ome.tif",
     "bad_xml.ome.tif", "grey_alpha.png", "rgba.png", "u16.png", "grey.jpg", "rgb.bmp",
     "frames.gif"],
)  # fmt: skip
def test_edge_files_read_the_same_both_ways(
    name: str, edge_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    direct, through_bioio, answered = _read_both(edge_files[name], monkeypatch)
    # bioio-ome-tiff refuses bad_xml (bioio-tifffile reads it); frames.gif has 3 frames.
    assert answered == (name not in ("frames.gif", "bad_xml.ome.tif"))
    _assert_same(direct, through_bioio)


def test_pixel_sizes_follow_the_resolution_unit(edge_files: dict[str, Path]) -> None:
    (info,) = get_loader("bioio").read_header(edge_files["cm.tif"])
    assert info.pixel_sizes == {"Y": pytest.approx(2.0), "X": pytest.approx(2.5)}
    # OME-XML states its units (here X in nm, Y in the default µm): the X unit wins
    (info,) = get_loader("bioio").read_header(edge_files["named.ome.tif"])
    assert info.pixel_size_unit == "nm"
    assert info.pixel_sizes == {"Y": pytest.approx(200.0), "X": pytest.approx(0.1)}
    assert info.channel_names == ("DAPI", "GFP")
    (info,) = get_loader("bioio").read_header(edge_files["micron_imagej.tif"])
    assert info.pixel_sizes == {
        "Z": pytest.approx(0.7),
        "Y": pytest.approx(1 / 3),
        "X": pytest.approx(1 / 3),
    }


def test_a_file_changed_after_its_header_is_reported(edge_files: dict[str, Path]) -> None:
    loader = get_loader("bioio")
    path = edge_files["rgb.tif"].with_name("changing.tif")
    tifffile.imwrite(path, _u8(20, 30))
    (info,) = loader.read_header(path)
    tifffile.imwrite(path, _u8(21, 30))
    with pytest.raises(Exception, match="changed since its header was read"):
        loader.read_array(path, info)  # type: ignore[attr-defined]


def test_plain_files_are_read_without_importing_bioio(
    samples: dict[str, Sample], edge_files: dict[str, Path]
) -> None:
    # Importing bioio costs about a second per shard job; a job holding only TIFFs and
    # pictures must not pay it.
    paths = [str(samples[n].path) for n in DIRECT_SAMPLES] + [str(edge_files["rgb.bmp"])]
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from pixel_patrol_base.plugins.registry import get_loader\n"
        "loader = get_loader('bioio')\n"
        "for p in sys.argv[1:]:\n"
        "    for info in loader.read_header(Path(p)):\n"
        "        loader.read_array(Path(p), info)\n"
        "assert 'bioio' not in sys.modules, 'bioio was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code, *paths], check=True)


@pytest.mark.parametrize(
    "name", ["rgb.ome.tif", "zcyx_square.ome.tif", "tzcyx.ome.tif", "two_series.tif", "rgb.tif"]
)
def test_tiff_reads_equal_the_plugins_own_data(
    name: str,
    edge_files: dict[str, Path],
    samples: dict[str, Sample],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Through bioio, a TIFF's pixels are decoded with tifffile and labelled with the axes
    # the plugin gives them; the plugin's own (Dask) read must give the same array.
    ome_samples = ["i16_cyx", "tczyx", "multi", "pyramid"]
    paths = [edge_files[name]] + [samples[n].path for n in ome_samples]
    for path in paths:
        with monkeypatch.context() as m:
            m.setattr(routes, "open_direct", lambda path, plugins: None)
            decoded = _read(path)
            m.setattr(routes, "_TIFF_PLUGINS", frozenset())
            plugins_own = _read(path)
        _assert_same(decoded, plugins_own)


def test_bioio_axes_outside_tczyxs_are_kept_first() -> None:
    # A BioImage that keeps mosaic tiles reports MTCZYX: the header must keep M, as
    # plan_axes on bioio's own dims would, not drop it.
    from pixel_patrol_base.loaders.bioio.metadata import samples_as_channels
    from pixel_patrol_base.loaders.bioio.scene import ReaderScene

    scene = ReaderScene("MTCZYX", (4, 1, 2, 1, 8, 9), np.dtype("uint8"), (None, None, None))
    assert scene.standard_axes == "MTCZYX"
    assert scene.standard_shape == (4, 1, 2, 1, 8, 9)
    assert ReaderScene("YXS", (8, 9, 3), np.dtype("uint8"), (None,) * 3).standard_axes == "TCZYXS"
    assert samples_as_channels("YXS", samples_declared=False) == "YXC"
    assert samples_as_channels("YXS", samples_declared=True) == "YXS"
    assert samples_as_channels("CYXS", samples_declared=False) == "CYXS"


DEPARTURES = {
    # Two planar RGB pages (tifffile: ISYX here, QSYX in ../shared/testdata/real/tiff/
    # multipage_rgb.tif). bioio-tifffile names the unknown page axis by the count of axes (C);
    # PixelPatrol's axis rules, which the tifffile loader follows too, make it Z.
    "rgb_pages.tif": ("CYXS", "ZYXS"),
}
"""File -> (bioio's ``dim_order``, the direct route's): where the direct route departs
from bioio on purpose, so that every loader names a file's axes alike."""


@pytest.mark.parametrize(("name", "dims"), DEPARTURES.items())
def test_the_direct_route_departs_from_bioio_only_as_listed(
    name: str, dims: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    path = tmp_path / name
    tifffile.imwrite(path, RNG.random((2, 3, 10, 10)), photometric="rgb",
                     planarconfig="separate", metadata=None)  # fmt: skip
    with tifffile.TiffFile(path) as tif:
        assert tif.series[0].axes == "ISYX"  # the real file's Q is as unknown as this I
    with monkeypatch.context() as m:  # bioio's own reading, without the tifffile fallback
        m.setattr(fallback, "chain_for", lambda path: None)
        (infos, arrays), (want_infos, want_arrays), answered = _read_both(path, monkeypatch)
    assert answered
    assert ([want_infos[0].dim_order], [infos[0].dim_order]) == ([dims[0]], [dims[1]])
    assert dataclasses.replace(infos[0], dim_order=dims[0]) == want_infos[0]
    np.testing.assert_array_equal(arrays[0], want_arrays[0])
    [own] = get_loader("tifffile").read_header(path)
    assert (own.dim_order, own.shape) == (infos[0].dim_order, infos[0].shape)
    # with the direct route off, the fallback chain gives the same axes as the direct route
    with monkeypatch.context() as m:
        m.setattr(routes, "open_direct", lambda path, plugins: None)
        [handed] = get_loader("bioio").read_header(path)
    assert (handed.dim_order, handed.extra["format_reader"]) == (dims[1], "tifffile")
