"""The Streamlit mosaic hands out group colours as the charts do (sorted group names)."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image

from pixel_patrol_base import resources
from pixel_patrol_base.viewing import widgets as pw


def _png(value: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((8, 8), value, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def _rgb(color: str) -> tuple[int, int, int]:
    text = color.lstrip("#")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def test_mosaic_borders_follow_the_sorted_group_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(resources.viewer_dir()))
    from pp_viewer.mosaic import CELL, compose

    groups = ["treated", "control", None, "control"]
    table = pa.table({"thumbnail": [_png(v) for v in (10, 80, 160, 240)], "group": groups})
    image, legend = compose(table, "set2")
    assert image is not None
    # Vega-Lite sorts a nominal colour domain, so "" < control < treated get colours 0, 1, 2
    set2 = pw.PALETTES["set2"]
    assert legend.to_pylist() == [
        {"group": "", "colour": set2[0]},
        {"group": "control", "colour": set2[1]},
        {"group": "treated", "colour": set2[2]},
    ]
    borders = [tuple(int(c) for c in image[0, i * CELL]) for i in range(len(groups))]
    assert borders == [_rgb(set2[2]), _rgb(set2[1]), _rgb(set2[0]), _rgb(set2[1])]
