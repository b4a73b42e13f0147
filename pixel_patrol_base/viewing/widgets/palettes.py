"""Colour palettes for groups, shared by both viewer runtimes.

``viewer/static/src/palettes.js`` is the JavaScript twin (same names, colours and rules);
``tests/widgets/render_vectors.json`` holds input/output pairs that both must reproduce.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pixel_patrol_base.errors import WidgetStateError

PALETTES: dict[str, tuple[str, ...]] = {
    "tableau10": (
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
        "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    ),
    "okabe-ito": (
        "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2",
        "#d55e00", "#cc79a7", "#000000",
    ),
    "set2": (
        "#66c2a5", "#fc8d62", "#8da0cb", "#e78ac3", "#a6d854",
        "#ffd92f", "#e5c494", "#b3b3b3",
    ),
    "dark2": (
        "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e",
        "#e6ab02", "#a6761d", "#666666",
    ),
}  # fmt: skip
"""Palette name -> colours; ``tableau10`` is the default."""

DEFAULT_PALETTE = "tableau10"


def palette_colors(name: str | None, n: int) -> list[str]:
    """``n`` colours of palette ``name`` (the default when ``None``), repeating as needed.

    Raises:
        WidgetStateError: when the palette is unknown.
    """
    key = DEFAULT_PALETTE if name is None else name
    if key not in PALETTES:
        raise WidgetStateError(f"palette {name!r} is unknown; use one of {', '.join(PALETTES)}")
    colors = PALETTES[key]
    return [colors[i % len(colors)] for i in range(n)]


def apply_palette(spec: Mapping[str, Any], name: str | None) -> dict[str, Any]:
    """A copy of a Vega-Lite spec whose categorical colour range is the palette's colours.

    Raises:
        WidgetStateError: when the palette is unknown.
    """
    key = DEFAULT_PALETTE if name is None else name
    colors = palette_colors(name, len(PALETTES.get(key, ())))
    out = dict(spec)
    config = dict(out.get("config", {}))
    ranges = dict(config.get("range", {}))
    ranges["category"] = colors
    config["range"] = ranges
    out["config"] = config
    return out


def group_colors(groups: Iterable[str | None], palette: str | None) -> list[tuple[str, str]]:
    """(group, colour) per distinct group, in the order Vega-Lite gives its colour domain.

    Vega-Lite sorts a nominal colour domain ascending (JavaScript string order, i.e. by
    UTF-16 code units), so the thumbnail mosaic's borders match the charts' colours.
    ``None`` is the group ``""``.

    Raises:
        WidgetStateError: when the palette is unknown.
    """
    names = sorted({"" if g is None else str(g) for g in groups}, key=_utf16)
    return list(zip(names, palette_colors(palette, len(names)), strict=True))


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")
