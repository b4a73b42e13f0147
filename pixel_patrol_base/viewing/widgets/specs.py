"""Declared Vega-Lite specs plus query results -> the spec a runtime draws (both runtimes).

What belongs here: filling a view's spec with its data (each named data source gets the
query's rows as a dataset, binary and nested columns dropped), the default ``autosize``,
the palette (:func:`.palettes.apply_palette`) and the Overview tile's compact form.
``viewer/static/src/specs.js`` is the JavaScript twin; ``tests/widgets/render_vectors.json``
holds input/output pairs that both must reproduce. What does not: drawing the chart
(``st.vega_lite_chart`` / ``vega-embed``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from pixel_patrol_base.viewing.widgets.palettes import apply_palette

AUTOSIZE = {"type": "pad", "contains": "padding"}
"""The ``autosize`` a spec gets when it declares none."""

TILE_WIDTH = 200
"""The widest chart of an Overview tile, in pixels."""


def data_names(node: object, out: set[str] | None = None) -> set[str]:
    """The names of the named data sources (``"data": {"name": ...}``) anywhere in a spec."""
    names = set() if out is None else out
    if isinstance(node, Mapping):
        source = node.get("data")
        if isinstance(source, Mapping) and "name" in source:
            names.add(str(source["name"]))
        for value in node.values():
            data_names(value, names)
    elif isinstance(node, list):
        for value in node:
            data_names(value, names)
    return names


def chartable(table: pa.Table) -> pa.Table:
    """``table`` without its binary and nested columns, which Vega-Lite cannot use."""
    keep = [
        f.name
        for f in table.schema
        if not (
            pa.types.is_binary(f.type)
            or pa.types.is_large_binary(f.type)
            or pa.types.is_nested(f.type)
        )
    ]
    return table.select(keep)


def chart_spec(
    spec: Mapping[str, Any], data: Mapping[str, pa.Table], palette: str | None
) -> dict[str, Any]:
    """The spec to draw: a copy of ``spec`` with its named data, ``autosize`` and palette.

    Args:
        spec: a declared Vega-Lite spec (left unchanged).
        data: query name -> result; each name the spec uses becomes a ``datasets`` entry.
        palette: a palette name (``None``: the default) for ``config.range.category``.

    Raises:
        WidgetStateError: when the palette is unknown.
    """
    out = copy.deepcopy(dict(spec))
    out["datasets"] = {
        name: chartable(data[name]) for name in sorted(data_names(out)) if name in data
    }
    out.setdefault("autosize", dict(AUTOSIZE))
    return apply_palette(out, palette)


def compact(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A tile-sized copy of an Overview spec: at most :data:`TILE_WIDTH` wide, legend below."""
    out = dict(spec)
    width = out.get("width")
    if isinstance(width, bool) or not isinstance(width, int | float) or width > TILE_WIDTH:
        out["width"] = TILE_WIDTH
    config = dict(out.get("config", {}))
    config["legend"] = {**config.get("legend", {}), "orient": "bottom", "columns": 3}
    out["config"] = config
    return out


def tile_spec(
    spec: Mapping[str, Any], data: Mapping[str, pa.Table], palette: str | None
) -> dict[str, Any]:
    """The Overview tile's chart: :func:`chart_spec` of the :func:`compact` spec."""
    return chart_spec(compact(spec), data, palette)
