"""Where ``declared_bit_depth`` finds the bits a file declares, per bioio plugin.

The ND2 and CZI plugins are not in the default install (``pixel-patrol[formats]``), so
these tests give the function objects shaped as those plugins' ``metadata`` are: the nd2
library's dataclasses (``Metadata.channels[i].volume.bitsPerComponentSignificant``) and
the CZI XML (``Information/Image/ComponentBitCount``), and OME's ``SignificantBits``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from pixel_patrol_base.loaders.bioio.metadata import declared_bit_depth
from pixel_patrol_base.loaders.bioio.scene import OME_PLUGIN


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
        (SimpleNamespace(metadata=_czi("14")), "bioio-czi", 14),
        (SimpleNamespace(metadata=_czi(None)), "bioio-czi", None),
        (SimpleNamespace(metadata=_czi("junk")), "bioio-czi", None),
        (SimpleNamespace(metadata=None), "bioio-imageio", None),
    ],
)
def test_declared_bit_depth_per_plugin(image: Any, plugin: str, bits: int | None) -> None:
    assert declared_bit_depth(image, plugin) == bits
