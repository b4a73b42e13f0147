"""The Python presentation helpers reproduce tests/widgets/render_vectors.json.

The static viewer's JavaScript twins are run on the same file by
tests/static_viewer/test_js_vectors.py, so both runtimes format numbers, fill summaries,
build chart specs and hand out group colours alike.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from pixel_patrol_base import errors
from pixel_patrol_base.viewing import widgets as pw

VECTORS = json.loads((Path(__file__).parent / "render_vectors.json").read_text(encoding="utf-8"))
SPECIAL_FLOATS = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}


def decode(value: Any) -> Any:
    """A vector's JSON input as Python values (tags: see the vector file's description)."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$bytes" in value:
        return bytes.fromhex(value["$bytes"])
    if "$float" in value:
        return SPECIAL_FLOATS[value["$float"]]
    if "$datetime" in value:
        return dt.datetime.fromisoformat(value["$datetime"])
    if "$ident" in value:
        return pw.Ident(value["$ident"])
    return {k: decode(v) for k, v in value.items()}


def encode(value: Any) -> Any:
    """A Python result as the vector file writes it (tables as rows, tuples as lists)."""
    if isinstance(value, pw.Ident):
        return {"$ident": value.name}
    if isinstance(value, pa.Table):
        return value.to_pylist()
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, Mapping):
        return {k: encode(v) for k, v in value.items()}
    return value


def _tables(data: Mapping[str, list[dict[str, Any]]]) -> dict[str, pa.Table]:
    return {name: pa.Table.from_pylist(rows) for name, rows in data.items()}


def _widget(raw: Mapping[str, Any]) -> pw.Widget:
    controls = tuple(
        pw.Control(
            c["id"],
            c["type"],
            c["label"],
            c["default"],
            None if c.get("options") is None else tuple(c["options"]),
        )
        for c in raw.get("controls", [])
    )
    return pw.Widget(
        id=raw["id"],
        title=raw.get("title", raw["id"]),
        description="",
        badge="image",
        kind="chart",
        requires=tuple(raw.get("requires", [])),
        controls=controls,
        queries={},
        specs=(),
        overview=None,
        prepare=(),
        source="vectors",
    )


def _visible(view: Any, data: Any, controls: Any) -> bool:
    return pw.view_visible(view, pw.WidgetResult("w", _tables(data)), controls)


def _resolve(widget: Any, controls: Any, columns: Any) -> dict[str, object]:
    target = _widget(widget)
    return pw.resolve_controls(target, pw.ViewState(controls={target.id: controls}), columns)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "format_value": pw.format_value,
    "fill_text": pw.fill_text,
    "overview_text": pw.overview_text,
    "kpi_cards": pw.kpi_cards,
    "header_facts": pw.header_facts,
    "badge_text": pw.badge_text,
    "hidden_note": pw.hidden_note,
    "palette_colors": pw.palette_colors,
    "apply_palette": pw.apply_palette,
    "group_colors": pw.group_colors,
    "chart_spec": lambda spec, data, palette: pw.chart_spec(spec, _tables(data), palette),
    "tile_spec": lambda spec, data, palette: pw.tile_spec(spec, _tables(data), palette),
    "compact": pw.compact,
    "view_visible": _visible,
    "group_options": pw.group_options,
    "missing_columns": lambda widget, columns: pw.missing_columns(_widget(widget), columns),
    "resolve_controls": _resolve,
    "qc_tables": pw.qc_tables,
}


def run_case(case: Mapping[str, Any]) -> dict[str, Any]:
    """``{"result": ...}`` or ``{"error": <the error class name>}`` for one case."""
    try:
        return {"result": encode(FUNCTIONS[case["function"]](**decode(case["input"])))}
    except (errors.PixelPatrolError, ValueError, KeyError) as exc:
        return {"error": type(exc).__name__}


def expected(case: Mapping[str, Any]) -> dict[str, Any]:
    return {"error": case["error"]} if "error" in case else {"result": case["expected"]}


def test_every_function_has_vectors() -> None:
    covered = {case["function"] for case in VECTORS["cases"]}
    assert covered == set(FUNCTIONS)
    assert len(VECTORS["cases"]) > 80


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: f"{c['function']}: {c['name']}")
def test_python_reproduces_the_vector(case: Mapping[str, Any]) -> None:
    assert run_case(case) == expected(case)


def test_chart_spec_leaves_the_declaration_unchanged() -> None:
    spec = {"data": {"name": "q"}, "mark": "bar", "config": {"range": {"ordinal": ["#000"]}}}
    before = json.dumps(spec, sort_keys=True)
    pw.tile_spec(spec, {"q": pa.table({"x": [1]})}, "set2")
    assert json.dumps(spec, sort_keys=True) == before
