"""Colour palettes for groups, shared by both viewer runtimes."""

from __future__ import annotations

from collections.abc import Mapping
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
    """A copy of a Vega-Lite spec whose categorical colour range is the palette's colours."""
    out = dict(spec)
    config = dict(out.get("config", {}))
    ranges = dict(config.get("range", {}))
    ranges["category"] = palette_colors(name, len(PALETTES[name or DEFAULT_PALETTE]))
    config["range"] = ranges
    out["config"] = config
    return out
