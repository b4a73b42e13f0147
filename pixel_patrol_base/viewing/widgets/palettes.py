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


GROUP_FIELD = "group"
"""The query column that holds the group value; its colour encodings get the report's scale."""

GROUP_DOMAIN_SQL = (
    'SELECT DISTINCT "group" FROM (SELECT CAST({{group}} AS VARCHAR) AS "group" FROM pp_data '
    'WHERE "obs_level" = 0) WHERE "group" IS NOT NULL'
)
"""The distinct group values of the whole report (unfiltered, so colours stay put when
filtering); :func:`group_domain` sorts them. ``palettes.js`` runs the same SQL."""

_COLOUR_CHANNELS = ("color", "fill", "stroke")


def group_domain(values: Iterable[str | None]) -> list[str]:
    """The sorted colour domain of the group values: distinct, ``None`` dropped, ordered
    as Vega-Lite orders a nominal domain (JavaScript string order, by UTF-16 code units)."""
    return sorted({str(v) for v in values if v is not None}, key=_utf16)


def apply_palette(
    spec: Mapping[str, Any], name: str | None, domain: list[str] | None = None
) -> dict[str, Any]:
    """A copy of a Vega-Lite spec whose categorical colour range is the palette's colours.

    With ``domain`` (:func:`group_domain` of the whole report), every colour, fill or
    stroke encoding of the field ``group`` that declares no domain gets the explicit
    scale ``{domain, range}``, so a group has the same colour in every chart, whichever
    groups a chart shows, and in the mosaic (:func:`group_colors` with the same domain).

    Raises:
        WidgetStateError: when the palette is unknown.
    """
    if domain:
        scale = {"domain": list(domain), "range": palette_colors(name, len(domain))}
        spec = _with_group_scale(spec, scale)
    key = DEFAULT_PALETTE if name is None else name
    colors = palette_colors(name, len(PALETTES.get(key, ())))
    out = dict(spec)
    config = dict(out.get("config", {}))
    ranges = dict(config.get("range", {}))
    ranges["category"] = colors
    config["range"] = ranges
    out["config"] = config
    return out


def _with_group_scale(node: Any, scale: Mapping[str, Any]) -> Any:
    if isinstance(node, list):
        return [_with_group_scale(v, scale) for v in node]
    if not isinstance(node, Mapping):
        return node
    out = {k: v if k == "datasets" else _with_group_scale(v, scale) for k, v in node.items()}
    encoding = out.get("encoding")
    if isinstance(encoding, Mapping):
        enc = dict(encoding)
        for channel in _COLOUR_CHANNELS:
            channel_def = enc.get(channel)
            if isinstance(channel_def, Mapping) and channel_def.get("field") == GROUP_FIELD:
                given = channel_def.get("scale") or {}
                if "domain" not in given:
                    enc[channel] = {**channel_def, "scale": {**given, **scale}}
        out["encoding"] = enc
    return out


def group_colors(
    groups: Iterable[str | None], palette: str | None, domain: list[str] | None = None
) -> list[tuple[str, str]]:
    """(group, colour) per group, in the order Vega-Lite gives its colour domain.

    With ``domain`` (the report's :func:`group_domain`, as the charts get it), the
    domain's groups come first, in its order, then any other group of ``groups``;
    without it, the distinct ``groups`` sorted. So the thumbnail mosaic's borders match
    the charts' colours. ``None`` is the group ``""``.

    Raises:
        WidgetStateError: when the palette is unknown.
    """
    given = {"" if g is None else str(g) for g in groups}
    names = list(domain or [])
    names += group_domain(given - set(names))
    return list(zip(names, palette_colors(palette, len(names)), strict=True))


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")
