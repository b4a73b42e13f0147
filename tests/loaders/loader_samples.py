"""Real image files for the loader tests, written with tifffile, imageio and zarr.

Each :class:`Sample` records what was written, in canonical axes (the expected
``dim_order`` and array computed here with plain NumPy, independently of the loaders).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np
import tifffile
import zarr


@dataclass
class Image:
    """One expected image: canonical axes and pixels, and expected metadata."""

    dim_order: str
    data: np.ndarray
    pixel_sizes: dict[str, float] = field(default_factory=dict)
    unit: str | None = None
    channel_names: tuple[str, ...] | None = None
    levels: list[np.ndarray] = field(default_factory=list)  # lower levels, canonical axes


@dataclass
class Sample:
    """A file on disk and the images it holds, by expected child id."""

    path: Path
    images: dict[str | None, Image]


RNG = np.random.default_rng(20240611)


def _u16(*shape: int) -> np.ndarray:
    return RNG.integers(0, 65535, shape, dtype=np.uint16, endpoint=True)


def _u8(*shape: int) -> np.ndarray:
    return RNG.integers(0, 255, shape, dtype=np.uint8, endpoint=True)


def _f32_nan(*shape: int) -> np.ndarray:
    data = RNG.normal(100.0, 20.0, shape).astype(np.float32)
    data.flat[RNG.choice(data.size, data.size // 10, replace=False)] = np.nan
    return data


def _tiffs(d: Path) -> dict[str, Sample]:
    s: dict[str, Sample] = {}
    a = _u8(30, 40)
    tifffile.imwrite(d / "u8_2d.tif", a)
    s["u8_2d"] = Sample(d / "u8_2d.tif", {None: Image("YX", a)})

    a = _u16(5, 30, 40)  # a plain multi-page TIFF: tifffile calls the axis Q
    tifffile.imwrite(d / "u16_pages.tif", a, metadata=None)
    s["u16_pages"] = Sample(d / "u16_pages.tif", {None: Image("ZYX", a)})

    a = _u16(6, 30, 40)
    tifffile.imwrite(d / "u16_zyx.tif", a, metadata={"axes": "ZYX"})
    s["u16_zyx"] = Sample(d / "u16_zyx.tif", {None: Image("ZYX", a)})

    a = RNG.integers(-32768, 32767, (3, 30, 40), dtype=np.int16)
    meta: dict[str, Any] = {"axes": "CYX", "Channel": {"Name": ["DAPI", "GFP", "RFP"]}}
    tifffile.imwrite(d / "i16_cyx.ome.tif", a, photometric="minisblack", metadata=meta)
    s["i16_cyx"] = Sample(
        d / "i16_cyx.ome.tif", {None: Image("CYX", a, channel_names=("DAPI", "GFP", "RFP"))}
    )

    a = _f32_nan(30, 40)
    tifffile.imwrite(d / "f32_nan.tif", a)
    s["f32_nan"] = Sample(d / "f32_nan.tif", {None: Image("YX", a)})

    a = _u16(2, 3, 4, 30, 40)
    meta = {
        "axes": "TCZYX",
        "PhysicalSizeX": 0.25,
        "PhysicalSizeY": 0.25,
        "PhysicalSizeZ": 1.5,
        "Channel": {"Name": ["c0", "c1", "c2"]},
    }
    tifffile.imwrite(d / "tczyx.ome.tif", a, photometric="minisblack", metadata=meta)
    s["tczyx"] = Sample(
        d / "tczyx.ome.tif",
        {None: Image("TCZYX", a, {"X": 0.25, "Y": 0.25, "Z": 1.5}, "µm", ("c0", "c1", "c2"))},
    )

    a = _u8(3, 4, 2, 30, 40)  # ImageJ stores TZCYX
    tifffile.imwrite(
        d / "hyperstack.tif",
        a,
        imagej=True,
        resolution=(2.0, 2.0),
        metadata={"axes": "TZCYX", "spacing": 1.5, "unit": "um"},
    )
    s["hyperstack"] = Sample(
        d / "hyperstack.tif",
        {None: Image("TCZYX", a.transpose(0, 2, 1, 3, 4), {"X": 0.5, "Y": 0.5, "Z": 1.5}, "µm")},
    )

    a = _u8(3, 30, 40)  # planar RGB: tifffile says SYX; canonical puts S last
    tifffile.imwrite(d / "planar_rgb.tif", a, photometric="rgb", planarconfig="separate")
    s["planar_rgb"] = Sample(d / "planar_rgb.tif", {None: Image("YXS", a.transpose(1, 2, 0))})

    series = [_u8(30, 40), _u16(3, 20, 25), _f32_nan(10, 12)]
    with tifffile.TiffWriter(d / "multi.ome.tif") as tif:
        for i, (arr, axes) in enumerate(zip(series, ("YX", "CYX", "YX"), strict=True)):
            tif.write(arr, photometric="minisblack", metadata={"axes": axes, "Name": f"series {i}"})
    s["multi"] = Sample(
        d / "multi.ome.tif",
        {
            str(i): Image(o, arr)
            for i, (arr, o) in enumerate(zip(series, ("YX", "CYX", "YX"), strict=True))
        },
    )

    a = _u16(256, 300)
    with tifffile.TiffWriter(d / "pyramid.ome.tif") as tif:
        tif.write(
            a,
            subifds=2,
            tile=(64, 64),
            metadata={"axes": "YX", "PhysicalSizeX": 0.2, "PhysicalSizeY": 0.2},
        )
        tif.write(a[::2, ::2], subfiletype=1, tile=(64, 64))
        tif.write(a[::4, ::4], subfiletype=1, tile=(64, 64))
    s["pyramid"] = Sample(
        d / "pyramid.ome.tif",
        {None: Image("YX", a, {"X": 0.2, "Y": 0.2}, "µm", levels=[a[::2, ::2], a[::4, ::4]])},
    )

    a = _u16(4, 300, 260)  # tiled, for block-wise reads
    tifffile.imwrite(
        d / "tiled.tif", a, tile=(64, 64), compression="zlib", photometric="minisblack"
    )
    s["tiled"] = Sample(d / "tiled.tif", {None: Image("ZYX", a)})
    return s


def _pngs(d: Path) -> dict[str, Sample]:
    s: dict[str, Sample] = {}
    a = _u8(30, 40, 3)
    iio.imwrite(d / "rgb.png", a)
    s["rgb_png"] = Sample(d / "rgb.png", {None: Image("YXS", a)})
    a = _u8(30, 40)
    iio.imwrite(d / "grey.png", a)
    s["grey_png"] = Sample(d / "grey.png", {None: Image("YX", a)})
    iio.imwrite(d / "rgb.jpg", _u8(30, 40, 3))
    # JPEG is lossy: the reference is imageio's own decode of the written file
    s["rgb_jpg"] = Sample(d / "rgb.jpg", {None: Image("YXS", iio.imread(d / "rgb.jpg"))})
    iio.imwrite(d / "rgb.jpeg", _u8(30, 40, 3))
    s["rgb_jpeg"] = Sample(d / "rgb.jpeg", {None: Image("YXS", iio.imread(d / "rgb.jpeg"))})
    return s


def _ngff_axes(order: str) -> list[dict[str, Any]]:
    kinds = {"t": "time", "c": "channel"}
    return [
        {"name": a, "type": kinds.get(a, "space"), **({"unit": "micrometer"} if a in "zyx" else {})}
        for a in order
    ]


def _write_multiscales(
    group: Any, order: str, levels: list[np.ndarray], scale: dict[str, float], **extra: Any
) -> dict[str, Any]:
    """Write an OME-Zarr multiscales image into ``group``; return its metadata."""
    datasets = []
    for k, level in enumerate(levels):
        group.create_array(str(k), data=level, chunks=(1,) * (level.ndim - 2) + (16, 16))
        factor = [2.0**k if a in "yx" else 1.0 for a in order]
        datasets.append(
            {
                "path": str(k),
                "coordinateTransformations": [
                    {
                        "type": "scale",
                        "scale": [
                            scale.get(a, 1.0) * f for a, f in zip(order, factor, strict=True)
                        ],
                    }
                ],
            }
        )
    return {
        "multiscales": [{"version": "0.4", "axes": _ngff_axes(order), "datasets": datasets}],
        **extra,
    }


def _zarrs(d: Path) -> dict[str, Sample]:
    s: dict[str, Sample] = {}
    # bioformats2raw layout, Zarr v2 / NGFF 0.4: numbered series next to an OME group
    root = zarr.open_group(d / "bf2raw.ome.zarr", mode="w", zarr_format=2)
    root.attrs["bioformats2raw.layout"] = 3
    c = _u16(2, 40, 48)
    z = _u8(5, 32, 32)
    t = _f32_nan(2, 2, 3, 20, 24)
    images = {
        "0": ("cyx", [c, c[:, ::2, ::2]], {"x": 0.5, "y": 0.5}),
        "1": ("zyx", [z], {"z": 2.0, "y": 0.3, "x": 0.3}),
        "2": ("tczyx", [t], {}),
    }
    for name, (order, levels, scale) in images.items():
        g = root.create_group(name)
        omero = {"channels": [{"label": "nuclei"}, {"label": "membrane"}]} if name == "0" else {}
        g.attrs.update(
            _write_multiscales(g, order, levels, scale, **({"omero": omero} if omero else {}))
        )
    root.create_group("OME").attrs["series"] = ["0", "1", "2"]
    s["bf2raw"] = Sample(
        d / "bf2raw.ome.zarr",
        {
            "0": Image(
                "CYX", c, {"X": 0.5, "Y": 0.5}, "µm", ("nuclei", "membrane"), [c[:, ::2, ::2]]
            ),
            "1": Image("ZYX", z, {"Z": 2.0, "Y": 0.3, "X": 0.3}, "µm"),
            "2": Image("TCZYX", t, {"Z": 1.0, "Y": 1.0, "X": 1.0}, "µm"),  # scale 1 written
        },
    )

    # Zarr v3 / NGFF 0.5: one multiscales image with three levels, metadata under "ome"
    a = _u16(3, 128, 160)
    levels = [a, a[:, ::2, ::2], a[:, ::4, ::4]]
    g = zarr.open_group(d / "pyramid_v05.ome.zarr", mode="w", zarr_format=3)
    meta = _write_multiscales(g, "cyx", levels, {"x": 0.1, "y": 0.1})
    meta["multiscales"][0]["name"] = "my image"
    g.attrs["ome"] = {"version": "0.5", **meta}
    s["pyramid_v05"] = Sample(
        d / "pyramid_v05.ome.zarr",
        {None: Image("CYX", a, {"X": 0.1, "Y": 0.1}, "µm", None, levels[1:])},
    )

    a = _u16(20, 30)
    zarr.create_array(d / "plain_v2.zarr", data=a, chunks=(8, 8), zarr_format=2)
    s["plain_v2"] = Sample(d / "plain_v2.zarr", {None: Image("YX", a)})

    a = _f32_nan(4, 20, 30)
    zarr.create_array(
        d / "plain_v3.zarr", data=a, chunks=(1, 10, 10), dimension_names=("c", "y", "x")
    )
    s["plain_v3"] = Sample(d / "plain_v3.zarr", {None: Image("CYX", a)})

    root = zarr.open_group(d / "arrays.zarr", mode="w", zarr_format=3)
    a1, a2 = _u8(10, 12), _u16(3, 8, 9)
    root.create_array("a", data=a1)
    root.create_group("sub").create_array("b", data=a2)
    root.create_array("vector", data=_u8(7))  # 1-D: not an image
    s["arrays"] = Sample(d / "arrays.zarr", {"a": Image("YX", a1), "sub/b": Image("ZYX", a2)})
    return s


def _broken(d: Path) -> dict[str, Path]:
    (d / "corrupt.tif").write_bytes(RNG.bytes(4096))
    iio.imwrite(d / "whole.png", _u8(200, 200, 3))
    data = (d / "whole.png").read_bytes()
    (d / "truncated.png").write_bytes(data[: len(data) // 2])
    (d / "whole.png").unlink()
    (d / "sample.nd2").write_bytes(b"not really nd2")
    (d / "not_a_store.zarr").mkdir()
    return {p.name: p for p in d.iterdir()}


def write_samples(d: Path) -> dict[str, Sample]:
    """Write every valid sample into ``d``."""
    return {**_tiffs(d), **_pngs(d), **_zarrs(d)}


def write_broken(d: Path) -> dict[str, Path]:
    """Write the files that must fail into ``d``."""
    return _broken(d)
