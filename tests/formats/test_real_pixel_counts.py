"""Every real file's images cover every pixel it stores, the loaders agree on axes, and
the loader columns are filled where the file states them.

For each file of ``../shared/testdata/real`` the ``bioio`` loader's headers must count
exactly the pixels that the format's own library says the file stores: tifffile's
series, zarr's level-0 arrays, nd2's shape, liffile's images, aicspylibczi's subblocks.
The TIFF and Zarr files must get the same axes and sizes from every loader that reads
them (``bioio`` and ``tifffile``; ``bioio`` and ``zarr``). Each header fills the loader
columns of the catalog that its format states (:data:`STATES`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest

from pixel_patrol_base.loaders.manifest import EXTRA_COLUMNS
from pixel_patrol_base.plugins import get_loader

REAL = Path(__file__).resolve().parents[2].parent / "shared/testdata/real"


def _tiff(path: Path) -> int:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        return sum(math.prod(series.shape) for series in tif.series)


def _zarr(path: Path) -> int:
    import zarr

    from pixel_patrol_base.loaders import zarr_loader

    root = zarr.open(store=str(path), mode="r")
    total = 0
    for node in zarr_loader._find_images(root, ""):
        item = root if node == "" else root[node]
        if isinstance(item, zarr.Array):
            total += math.prod(item.shape)
        else:
            multiscales = zarr_loader._ome(item.attrs)["multiscales"][0]
            total += math.prod(item[multiscales["datasets"][0]["path"]].shape)
    return total


def _nd2(path: Path) -> int:
    nd2 = pytest.importorskip("nd2")
    with nd2.ND2File(path) as f:
        return math.prod(f.shape)


def _lif(path: Path) -> int:
    liffile = pytest.importorskip("liffile")
    with liffile.LifFile(path) as lif:
        return sum(image.size for image in lif.images)


def _czi(path: Path) -> int:
    aicspylibczi = pytest.importorskip("aicspylibczi")
    with path.open("rb") as file:
        czi = aicspylibczi.CziFile(file)
        total = 0
        for dims, _ in czi.read_subblock_metadata():
            pixels, _ = czi.read_image(**dims)
            total += pixels.size
        return total


STORED: dict[str, Callable[[Path], int]] = {
    ".tif": _tiff, ".zarr": _zarr, ".nd2": _nd2, ".lif": _lif, ".czi": _czi,
}  # fmt: skip
FILES = sorted(str(p.relative_to(REAL)) for p in REAL.glob("*/*") if p.suffix in STORED) or [
    "(../shared/testdata/real is not here)"
]


@pytest.mark.parametrize("name", FILES)
def test_the_headers_count_every_stored_pixel(name: str) -> None:
    path = REAL / name
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared/testdata/real)")
    infos = get_loader("bioio").read_header(path)
    assert sum(math.prod(info.shape) for info in infos) == STORED[path.suffix](path)


@pytest.mark.parametrize("name", [n for n in FILES if n.endswith((".tif", ".zarr"))])
def test_every_loader_gives_the_same_axes(name: str) -> None:
    path = REAL / name
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared/testdata/real)")
    own = get_loader("tifffile" if name.endswith(".tif") else "zarr")
    views = [
        [(i.child_id, i.dim_order, tuple(i.shape)) for i in loader.read_header(path)]
        for loader in (get_loader("bioio"), own)
    ]
    assert views[0] == views[1]


STATES: dict[str, set[str]] = {  # extension -> loader columns its files state
    ".tif": {"compression"},
    ".zarr": {"compression"},
    ".nd2": {"compression", "declared_bit_depth"},
    ".lif": {"image_name", "compression", "declared_bit_depth"},
    # CZI: image_name only where the scene is named; compression is not stated per subblock
    ".czi": {"declared_bit_depth"},
}
ALWAYS = {"format_reader", "resolution_levels"}


def test_every_loader_column_is_one_the_catalog_lists() -> None:
    listed = {c.name for c in EXTRA_COLUMNS}
    assert ALWAYS | set().union(*STATES.values()) | {"image_name"} <= listed


@pytest.mark.parametrize("name", FILES)
def test_the_loader_columns_are_filled_where_the_file_states_them(name: str) -> None:
    path = REAL / name
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared/testdata/real)")
    for info in get_loader("bioio").read_header(path):
        missing = (ALWAYS | STATES[path.suffix]) - {k for k, v in info.extra.items() if v}
        assert not missing, (name, info.child_id)
    if name == "czi/S3_1Pos_2Mosaic_T1_Z1_CH1.czi":  # its scenes are named
        assert [i.extra.get("image_name") for i in get_loader("bioio").read_header(path)] == [
            "TR1", "P1", "TR2"
        ]  # fmt: skip
