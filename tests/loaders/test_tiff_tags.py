"""TIFF pixel sizes: one rule for every loader, and no unit the file does not state.

Files written here with tifffile cover each case of ``loaders/tiff_tags.py``; the real
files of ``../shared/testdata/real/tiff`` are the cases that bioio-tifffile got wrong (a
96 dpi SEM image read as 264.58 µm pixels, an ImageJ file in "pixel" read as µm).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile

from pixel_patrol_base.plugins import get_loader

REAL = Path(__file__).resolve().parents[2].parent / "shared/testdata/real/tiff"
LOADERS = ("bioio", "tifffile")
PIXELS = np.zeros((2, 12, 16), np.uint16)

CASES: dict[str, tuple[dict[str, Any], dict[str, float], str | None]] = {
    # name: (tifffile.imwrite keywords, expected sizes, expected unit)
    "dpi_96.tif": ({"resolution": (96.0, 96.0), "resolutionunit": "INCH"}, {}, None),
    "unit_none.tif": ({"resolution": (2.0, 2.0), "resolutionunit": "NONE"}, {}, None),
    "no_resolution.tif": ({}, {}, None),
    "per_cm.tif": (
        {"resolution": (4000.0, 5000.0), "resolutionunit": "CENTIMETER"},
        {"X": 2.5, "Y": 2.0},
        "µm",
    ),
    "per_mm.tif": (
        {"resolution": (2000.0, 2000.0), "resolutionunit": "MILLIMETER"},
        {"X": 0.5, "Y": 0.5},
        "µm",
    ),
    "imagej_pixel.tif": (
        {"imagej": True, "resolution": (0.5, 0.5), "metadata": {"axes": "ZYX", "unit": "pixel"}},
        {},
        None,
    ),
    "imagej_no_unit.tif": (
        {"imagej": True, "resolution": (0.5, 0.5), "metadata": {"axes": "ZYX"}},
        {},
        None,
    ),
    "imagej_micron.tif": (
        {
            "imagej": True,
            "resolution": (4.0, 4.0),
            "metadata": {"axes": "ZYX", "unit": "micron", "spacing": 0.3},
        },
        {"X": 0.25, "Y": 0.25, "Z": 0.3},
        "µm",
    ),
    "imagej_nm.tif": (
        {"imagej": True, "resolution": (0.01, 0.02), "metadata": {"axes": "ZYX", "unit": "nm"}},
        {"X": 100.0, "Y": 50.0},
        "nm",
    ),
}


@pytest.fixture(scope="module")
def tiffs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tiff_sizes")
    out = {}
    for name, (keywords, _, _) in CASES.items():
        out[name] = folder / name
        tifffile.imwrite(out[name], PIXELS, **keywords)
    return out


# bioio-tifffile warns where it finds no pixel size; the rule here does not ask it
@pytest.mark.filterwarnings("ignore:Could not parse tiff pixel size")
@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("name", list(CASES))
def test_every_loader_states_only_the_sizes_the_file_states(
    name: str, loader: str, tiffs: dict[str, Path]
) -> None:
    _, sizes, unit = CASES[name]
    (info,) = get_loader(loader).read_header(tiffs[name])
    assert info.pixel_sizes == pytest.approx(sizes)
    assert info.pixel_size_unit == unit


@pytest.mark.filterwarnings("ignore:Could not parse tiff pixel size")
@pytest.mark.parametrize("name", ["fei-sem-rbc.tif", "xem_y32.tif"])
def test_real_files_get_no_invented_unit(name: str) -> None:
    path = REAL / name
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared/testdata/real)")
    for loader in LOADERS:
        (info,) = get_loader(loader).read_header(path)
        assert (info.pixel_sizes, info.pixel_size_unit) == ({}, None), (loader, name)


def test_both_loaders_give_the_same_compression_and_image_name(tmp_path: Path) -> None:
    lzw, named = tmp_path / "lzw.tif", tmp_path / "named.ome.tif"
    tifffile.imwrite(lzw, PIXELS, compression="lzw")
    tifffile.imwrite(named, PIXELS, metadata={"axes": "ZYX", "Name": "field 7"})
    for path, facts in (
        (lzw, {"compression": "lzw"}),
        (named, {"compression": "none", "image_name": "field 7"}),
    ):
        for loader in LOADERS:
            (info,) = get_loader(loader).read_header(path)
            got = {k: info.extra[k] for k in ("compression", "image_name") if k in info.extra}
            assert got == facts, (loader, path.name)
