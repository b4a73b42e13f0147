"""Message templates: checked at load time, filled by polars like str.format would."""

from __future__ import annotations

import polars as pl
import pytest

from pixel_patrol_base.qc.messages import Template, parse_template, render


@pytest.mark.parametrize(
    ("spec", "values"),
    [
        (".2f", [0.0, 0.0051, 0.2, -1.236, 12345.678, 0.999]),
        (".0f", [0.4, 2.6, -3.2, 100.0]),
        (".1%", [0.1234, 0.0, 1.0, 0.00049]),
        (".0%", [0.1, 0.25, 0.994]),
    ],
)
def test_fixed_and_percent_specs_match_python(spec: str, values: list[float]) -> None:
    template = parse_template(f"v={{x:{spec}}}")
    assert isinstance(template, Template)
    frame = pl.DataFrame({"x": values})
    got = frame.select(render(template, {}, frame.schema).alias("m"))["m"].to_list()
    assert got == [f"v={v:{spec}}" for v in values]


def test_placeholders_of_every_kind() -> None:
    frame = pl.DataFrame(
        {
            "x": [0.123456, None],
            "n": [3, 4],
            "s": ["a", None],
            "l": [["DAPI", "GFP"], []],
            "flag": [True, False],
        }
    )
    template = parse_template("{x} {x:.2g} {n} {s} [{l}] {flag} {{literal}} {rule}")
    assert isinstance(template, Template)
    specials = {"rule": (pl.lit("dark"), pl.String())}
    got = frame.select(render(template, specials, frame.schema).alias("m"))["m"].to_list()
    assert got == [
        "0.1235 0.12 3 a [DAPI, GFP] true {literal} dark",
        "null null 4 null [] false {literal} dark",
    ]
    assert template.names == ["x", "n", "s", "l", "flag", "rule"]


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("{value.__class__}", "plain name"),
        ("{value[0]}", "plain name"),
        ("{0}", "plain name"),
        ("{}", "plain name"),
        ("{value!r}", "conversions"),
        ("{value:>10}", "use no spec"),
        ("{value:{width}}", "use no spec"),
        ("{value", "bad message template"),
        ("value}", "bad message template"),
    ],
)
def test_unsafe_or_bad_templates_are_refused(text: str, fault: str) -> None:
    problem = parse_template(text)
    assert isinstance(problem, str)
    assert fault in problem
