"""The real files of the format tests, written with tifffile, imageio and zarr.

:func:`write_dataset` writes one folder that every pipeline run of this directory reads,
and returns what each file must give: per ``(path, child_id)`` the canonical axes and the
pixels (held here, in plain NumPy, independently of the loaders), the lower pyramid
level the thumbnail may use, and the header fields the loader must report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np
import tifffile
import zarr

RNG_SEED = 20261124


@dataclass
class Expected:
    """One image the pipeline must find.

    Attributes:
        dim_order: Canonical axes (T, C, Z, Y, X, S) of ``data``.
        data: The pixels, axes in ``dim_order``.
        overview: The pyramid level the thumbnail must be drawn from (``None``: ``data``).
        header: Further level-0 columns and the values they must hold.
    """

    dim_order: str
    data: np.ndarray
    overview: np.ndarray | None = None
    header: dict[str, Any] = field(default_factory=dict)


Key = tuple[str, str | None]
"""``(path relative to the base folder, child_id)``."""


@dataclass
class Dataset:
    """The folder written and what it must give."""

    base: Path
    images: dict[Key, Expected]
    broken: tuple[str, ...]
    """Files that must give one row with ``load_error``."""
    other: tuple[str, ...]
    """Files no image loader reads (skipped by extension)."""


def _textured(rng: np.random.Generator, shape: tuple[int, ...], low: float, high: float) -> Any:
    """A smooth gradient plus noise and a bright square, scaled to [low, high] (float64)."""
    *lead, rows, cols = shape
    yy, xx = np.meshgrid(np.linspace(0, 1, rows), np.linspace(0, 1, cols), indexing="ij")
    base = 0.5 * xx + 0.3 * yy + 0.2 * np.sin(6 * xx) * np.cos(4 * yy)
    data = base + rng.normal(0, 0.08, (*lead, rows, cols))
    data[..., rows // 4 : rows // 2, cols // 3 : cols // 2] += 0.6
    data = (data - data.min()) / (data.max() - data.min())
    return low + data * (high - low)


def _ints(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    info = np.iinfo(dtype)
    data = np.rint(_textured(rng, shape, float(info.min), float(info.max))).astype(dtype)
    flat = data.reshape(-1)
    flat[rng.choice(flat.size, 5, replace=False)] = info.max  # clipped pixels
    flat[rng.choice(flat.size, 3, replace=False)] = info.min
    return data


def _floats(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    data = _textured(rng, shape, -3.5, 120.0).astype(np.float32)
    flat = data.reshape(-1)
    flat[rng.choice(flat.size, max(1, flat.size // 20), replace=False)] = np.nan
    flat[rng.choice(flat.size, 2, replace=False)] = np.inf
    flat[rng.choice(flat.size, 1, replace=False)] = -np.inf
    return data


def _ome_meta(axes: str, **extra: Any) -> dict[str, Any]:
    return {"axes": axes, **extra}


def _tiffs(base: Path, rng: np.random.Generator) -> dict[Key, Expected]:
    out: dict[Key, Expected] = {}
    (base / "plain").mkdir(parents=True)
    for name, data in (
        ("u8.tif", _ints(rng, (37, 45), np.uint8)),
        ("u16.tif", _ints(rng, (40, 52), np.uint16)),
        ("i16.tif", _ints(rng, (34, 48), np.int16)),
        ("f32_nan.tif", _floats(rng, (44, 38))),
    ):
        tifffile.imwrite(base / "plain" / name, data)
        out[(f"plain/{name}", None)] = Expected("YX", data, header={"dtype": data.dtype.name})
    # a narrow uint16 range: one-level bins placed inside the dtype range
    narrow = (rng.integers(0, 90, (30, 33)) + 65400).astype(np.uint16)
    tifffile.imwrite(base / "plain" / "u16_narrow.tif", narrow)
    out[("plain/u16_narrow.tif", None)] = Expected("YX", narrow)

    ome = base / "ome"
    ome.mkdir()
    zyx = _floats(rng, (3, 32, 40))
    tifffile.imwrite(
        ome / "zyx.ome.tif",
        zyx,
        photometric="minisblack",
        metadata=_ome_meta("ZYX", PhysicalSizeX=0.25, PhysicalSizeY=0.25, PhysicalSizeZ=2.0),
    )
    out[("ome/zyx.ome.tif", None)] = Expected(
        "ZYX", zyx, header={"pixel_size_x": 0.25, "pixel_size_z": 2.0, "dtype": "float32"}
    )
    cyx = _ints(rng, (2, 36, 42), np.uint8)
    tifffile.imwrite(
        ome / "cyx.ome.tif",
        cyx,
        photometric="minisblack",
        metadata=_ome_meta("CYX", Channel={"Name": ["DAPI", "GFP"]}),
    )
    out[("ome/cyx.ome.tif", None)] = Expected(
        "CYX", cyx, header={"channel_names": ["DAPI", "GFP"], "size_c": 2}
    )
    tczyx = _ints(rng, (2, 2, 3, 24, 30), np.uint16)
    tifffile.imwrite(
        ome / "tczyx.ome.tif", tczyx, photometric="minisblack", metadata=_ome_meta("TCZYX")
    )
    out[("ome/tczyx.ome.tif", None)] = Expected(
        "TCZYX", tczyx, header={"shape": [2, 2, 3, 24, 30], "ndim": 5}
    )
    i16_2d = _ints(rng, (28, 35), np.int16)
    tifffile.imwrite(ome / "i16_2d.ome.tif", i16_2d, metadata=_ome_meta("YX"))
    out[("ome/i16_2d.ome.tif", None)] = Expected("YX", i16_2d)

    series = [
        ("YX", _ints(rng, (26, 31), np.uint16)),
        ("ZYX", _ints(rng, (2, 20, 24), np.uint8)),
        ("YX", _floats(rng, (18, 22))),
    ]
    with tifffile.TiffWriter(ome / "multi.ome.tif", ome=True) as tif:
        for i, (axes, data) in enumerate(series):
            tif.write(data, photometric="minisblack", metadata={"axes": axes, "Name": f"s{i}"})
    for i, (axes, data) in enumerate(series):
        out[("ome/multi.ome.tif", str(i))] = Expected(axes, data, header={"n_images": 3})
    return out


def _pictures(base: Path, rng: np.random.Generator) -> dict[Key, Expected]:
    out: dict[Key, Expected] = {}
    pics = base / "pictures"
    pics.mkdir()
    rgb = _ints(rng, (3, 33, 47), np.uint8).transpose(1, 2, 0).copy()
    iio.imwrite(pics / "rgb.png", rgb)
    out[("pictures/rgb.png", None)] = Expected("YXS", rgb, header={"size_s": 3})
    photo = _ints(rng, (3, 40, 56), np.uint8).transpose(1, 2, 0).copy()
    iio.imwrite(pics / "photo.jpg", photo, quality=70)
    # JPEG is lossy: the reference is the decoded file, read here with imageio directly
    decoded = np.asarray(iio.imread(pics / "photo.jpg"))
    out[("pictures/photo.jpg", None)] = Expected("YXS", decoded, header={"dtype": "uint8"})
    return out


def _axes_meta(order: str) -> list[dict[str, str]]:
    kinds = {"t": "time", "c": "channel"}
    return [{"name": a, "type": kinds.get(a, "space")} for a in order]


def _multiscales(group: Any, order: str, levels: list[np.ndarray]) -> None:
    datasets = []
    for k, level in enumerate(levels):
        chunks = (1,) * (level.ndim - 2) + (32, 32)
        group.create_array(str(k), data=level, chunks=chunks)
        scale = [2.0**k if a in "yx" else 1.0 for a in order]
        datasets.append(
            {"path": str(k), "coordinateTransformations": [{"type": "scale", "scale": scale}]}
        )
    group.attrs["multiscales"] = [
        {"version": "0.4", "axes": _axes_meta(order), "datasets": datasets}
    ]


def _zarrs(base: Path, rng: np.random.Generator) -> dict[Key, Expected]:
    """A bioformats2raw store: numbered series next to an ``OME`` group (Zarr v2)."""
    root = zarr.open_group(base / "stores" / "multi.zarr", mode="w", zarr_format=2)
    root.attrs["bioformats2raw.layout"] = 3
    czyx = _ints(rng, (2, 2, 160, 192), np.uint16)
    pyramid = [czyx, czyx[..., ::2, ::2].copy(), czyx[..., ::4, ::4].copy()]
    _multiscales(root.create_group("0"), "czyx", pyramid)
    yx = _floats(rng, (30, 36))
    _multiscales(root.create_group("1"), "yx", [yx])
    root.create_group("OME").attrs["series"] = ["0", "1"]
    return {
        # the thumbnail reads level 1, the smallest with a side of at least 64 pixels
        ("stores/multi.zarr", "0"): Expected(
            "CZYX", czyx, overview=pyramid[1], header={"n_images": 2, "resolution_levels": 3}
        ),
        ("stores/multi.zarr", "1"): Expected("YX", yx, header={"n_images": 2}),
    }


def _broken(base: Path, rng: np.random.Generator) -> tuple[str, ...]:
    broken = base / "broken"
    broken.mkdir()
    (broken / "corrupt.tif").write_bytes(b"II*\x00" + rng.bytes(3000))
    iio.imwrite(broken / "whole.png", _ints(rng, (3, 120, 150), np.uint8).transpose(1, 2, 0))
    data = (broken / "whole.png").read_bytes()
    (broken / "truncated.png").write_bytes(data[: len(data) // 2])
    (broken / "whole.png").unlink()
    return ("broken/corrupt.tif", "broken/truncated.png")


def write_large(base: Path, rng: np.random.Generator) -> dict[Key, Expected]:
    """A 1.1 MiB stack of 384 KiB planes and a 1.9 MiB plane: block-wise at 1 MiB a task."""
    large = base / "large"
    large.mkdir(parents=True)
    stack = _ints(rng, (3, 384, 512), np.uint16)
    tifffile.imwrite(
        large / "stack.tif",
        stack,
        photometric="minisblack",
        metadata={"axes": "ZYX"},
        tile=(128, 128),
    )
    plane = _floats(rng, (640, 768))
    tifffile.imwrite(large / "plane.tif", plane)
    return {
        ("large/stack.tif", None): Expected("ZYX", stack),
        ("large/plane.tif", None): Expected("YX", plane),
    }


def write_dataset(base: Path) -> Dataset:
    """Write every file of the format tests under ``base``."""
    rng = np.random.default_rng(RNG_SEED)
    images = {**_tiffs(base, rng), **_pictures(base, rng), **_zarrs(base, rng)}
    images |= write_large(base, rng)
    broken = _broken(base, rng)
    (base / "notes.txt").write_text("not an image\n", "utf-8")
    (base / "plain" / "readme.md").write_text("# notes\n", "utf-8")
    return Dataset(base, images, broken, ("notes.txt", "plain/readme.md"))
