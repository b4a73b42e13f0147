"""Where ``declared_bit_depth`` finds the bits a file declares, per bioio plugin.

First on real ND2 and CZI files from ``../shared/testdata/real`` read by the real
plugins (``pixel-patrol[formats]``, which the test environment installs), then on objects
shaped as each plugin's ``metadata`` may be: the nd2 library's dataclasses
(``Metadata.channels[i].volume.bitsPerComponentSignificant``), bioio-nd2 2.x's OME, the
CZI XML (``Information/Image/ComponentBitCount``) and OME's ``SignificantBits``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pixel_patrol_base.loaders.bioio.metadata import declared_bit_depth
from pixel_patrol_base.loaders.bioio.scene import OME_PLUGIN
from pixel_patrol_base.plugins import get_loader

REAL = Path(__file__).resolve().parents[2].parent / "shared/testdata/real"


@pytest.mark.parametrize(
    ("name", "reader", "bits"),
    [
        # the nd2 file's bitsPerComponentSignificant: a 12-bit camera stored in uint16
        ("nd2/cluster.nd2", "bioio-nd2", [12]),
        # ComponentBitCount of each CZI, one value per image. bioio-czi reads the one
        # whose view agrees with aicspylibczi's; the Airyscan file (two images: its
        # planes are no full grid), the mosaic and DAPI_GFP are read by aicspylibczi.
        ("czi/LSM880_AiryScan.czi", "aicspylibczi", [12, 12]),
        ("czi/S3_1Pos_2Mosaic_T1_Z1_CH1.czi", "aicspylibczi", [14, 14, 14]),
        ("czi/xyz__multiple_images.czi", "bioio-czi", [16, 16]),
        ("czi/DAPI_GFP.czi", "aicspylibczi", [8]),
        # the channels' Resolution of each LIF series (read by liffile)
        ("lif/testdata_2channel_xz.lif", "liffile", [8, 8, 8]),
    ],
)
def test_real_nd2_and_czi_files_declare_their_bit_depth(
    name: str, reader: str, bits: list[int]
) -> None:
    path = REAL / name
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared/testdata/real)")
    pytest.importorskip(reader.replace("-", "_"), reason=f"{reader} is not installed")
    infos = get_loader("bioio").read_header(path)
    assert [info.extra["format_reader"] for info in infos] == [reader] * len(bits)
    assert [info.extra.get("declared_bit_depth") for info in infos] == bits
    assert len({info.dtype for info in infos}) == 1


@dataclass
class Volume:
    bitsPerComponentInMemory: int = 16  # noqa: N815 (the nd2 library's names)
    bitsPerComponentSignificant: int | None = 12  # noqa: N815


@dataclass
class Channel:
    volume: Volume = field(default_factory=Volume)


@dataclass
class Metadata:
    contents: dict[str, Any] = field(default_factory=dict)
    channels: list[Channel] = field(default_factory=lambda: [Channel()])


def _czi(bits: str | None) -> ET.Element:
    count = "" if bits is None else f"<ComponentBitCount>{bits}</ComponentBitCount>"
    return ET.fromstring(
        f"<ImageDocument><Metadata><Information><Image>{count}<PixelType>Gray16</PixelType>"
        "</Image></Information></Metadata></ImageDocument>"
    )


def _ome(bits: int | None) -> SimpleNamespace:
    pixels = SimpleNamespace(significant_bits=bits)
    images = [
        SimpleNamespace(pixels=SimpleNamespace(significant_bits=8)),
        SimpleNamespace(pixels=pixels),
    ]
    return SimpleNamespace(ome_metadata=SimpleNamespace(images=images), current_scene_index=1)


@pytest.mark.parametrize(
    ("image", "plugin", "bits"),
    [
        (_ome(12), OME_PLUGIN, 12),
        (_ome(None), OME_PLUGIN, None),
        (SimpleNamespace(metadata=Metadata()), "bioio-nd2", 12),
        (SimpleNamespace(metadata=Metadata([], [Channel(Volume(16, None))])), "bioio-nd2", None),
        (
            SimpleNamespace(
                metadata={"channels": [{"volume": {"bitsPerComponentSignificant": 14}}]}
            ),
            "bioio-nd2",
            14,
        ),
        (
            SimpleNamespace(metadata=_ome(10).ome_metadata, current_scene_index=1),
            "bioio-nd2",
            10,
        ),
        (SimpleNamespace(metadata=_czi("14")), "bioio-czi", 14),
        (SimpleNamespace(metadata=_czi(None)), "bioio-czi", None),
        (SimpleNamespace(metadata=_czi("junk")), "bioio-czi", None),
        (SimpleNamespace(metadata=None), "bioio-imageio", None),
    ],
)
def test_declared_bit_depth_per_plugin(image: Any, plugin: str, bits: int | None) -> None:
    assert declared_bit_depth(image, plugin) == bits
