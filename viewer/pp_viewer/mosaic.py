"""Compose the thumbnail mosaic into one image, with a border colour per group.

Pure function of the query result (no Streamlit): the declaration's ``image`` column
holds PNG thumbnails, its ``color`` column the group value. Colours come from
:func:`pixel_patrol_base.viewing.widgets.palettes.group_colors` with the report's sorted
group domain (the one every chart's colour scale gets), so a group's border matches its
colour in the charts. The legend maps each shown group to its colour; file names stay
data, never markup.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pyarrow as pa
from PIL import Image, UnidentifiedImageError

from pixel_patrol_base.viewing.widgets.palettes import group_colors

CELL = 72
BORDER = 3
COLUMNS = 12


def _hex_rgb(color: str) -> tuple[int, int, int]:
    text = color.lstrip("#")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def compose(
    table: pa.Table,
    palette: str | None,
    image: str = "thumbnail",
    color: str = "group",
    domain: list[str] | None = None,
) -> tuple[np.ndarray | None, pa.Table]:
    """The mosaic as an RGB array (``None`` without thumbnails) and its colour legend.

    ``image`` names the column of PNG thumbnails, ``color`` the group column, ``domain``
    the report's sorted group domain (the charts' colour scale); the legend lists the
    groups shown, in domain order.
    """
    empty = pa.table({"group": pa.array([], pa.string()), "colour": pa.array([], pa.string())})
    if image not in table.column_names or table.num_rows == 0:
        return None, empty
    blobs = table.column(image).to_pylist()
    groups = (
        ["" if g is None else str(g) for g in table.column(color).to_pylist()]
        if color in table.column_names
        else [""] * table.num_rows
    )
    color_of = dict(group_colors(groups, palette, domain))
    shown = set(groups)
    pairs = [(g, c) for g, c in color_of.items() if g in shown]
    cols = min(COLUMNS, table.num_rows)
    rows = math.ceil(table.num_rows / cols)
    canvas = np.full((rows * CELL, cols * CELL, 3), 255, dtype=np.uint8)
    inner = CELL - 2 * BORDER
    for i, (blob, group) in enumerate(zip(blobs, groups, strict=True)):
        top, left = (i // cols) * CELL, (i % cols) * CELL
        canvas[top : top + CELL, left : left + CELL] = _hex_rgb(color_of[group])
        tile = np.full((inner, inner, 3), 230, dtype=np.uint8)
        if blob:
            try:
                with Image.open(io.BytesIO(blob)) as img:
                    thumb = img.convert("RGB")
                    thumb.thumbnail((inner, inner))
                    arr = np.asarray(thumb)
                    y0 = (inner - arr.shape[0]) // 2
                    x0 = (inner - arr.shape[1]) // 2
                    tile[y0 : y0 + arr.shape[0], x0 : x0 + arr.shape[1]] = arr
            except (UnidentifiedImageError, OSError):
                pass
        canvas[top + BORDER : top + CELL - BORDER, left + BORDER : left + CELL - BORDER] = tile
    legend = pa.table(
        {
            "group": pa.array([g for g, _ in pairs], pa.string()),
            "colour": pa.array([c for _, c in pairs], pa.string()),
        }
    )
    return canvas, legend
