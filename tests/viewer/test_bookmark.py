"""Bookmark parameters are untrusted: each is checked, a bad value dropped with a notice.

``parse_bookmark`` on a report's real column types and the installed widgets; and
``api.view`` refusing filter values that do not fit their operator or column type
before anything starts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pixel_patrol_base import api
from pixel_patrol_base.errors import FilterValueError, InvalidInputError, ViewOptionError
from pixel_patrol_base.viewing.bookmark import parse_bookmark
from pixel_patrol_base.viewing.options import report_columns
from pixel_patrol_base.viewing.widgets import Filter, ViewState, load_widgets

MODES = ("Overview", "Full")

CRAFTED: list[tuple[str, str]] = [
    ("filter", "notjson"),
    ("filter", '["size_bytes","gt","abc"]'),
    ("filter", '["size_bytes","eq",[1,2]]'),
    ("filter", '["size_bytes","in",5]'),
    ("filter", '["size_bytes","in",[]]'),
    ("filter", '["size_bytes","gt",NaN]'),
    ("filter", '["size_bytes","gt",1e400]'),
    ("filter", '["size_bytes","gt",100000000000000000000000]'),
    ("filter", '["size_bytes","like",1]'),
    ("filter", '["nope","eq",1]'),
    ("filter", '["thumbnail","gt",1]'),
    ("filter", '["shape","eq",1]'),
    ("filter", '["modification_date","gt","abc"]'),
    ("filter", '["file_extension","eq",null]'),
    ("filter", '{"a":1}'),
    ("filter", "[1,2]"),
    ("filter", "[" * 5000),
    ("dim", "Q:1"),
    ("dim", "Z:abc"),
    ("dim", "Z:-1"),
    ("dim", "Z:²"),
    ("dim", "Z:99999999999999999999"),
    ("dim", "Z"),
    ("ctl", "image-table.limit=-1"),
    ("ctl", "image-table.limit=1.5"),
    ("ctl", "image-table.limit=1e309"),
    ("ctl", "image-table.limit=Infinity"),
    ("ctl", 'image-table.limit="x"'),
    ("ctl", "image-table.limit=abc"),
    ("ctl", "image-table.nope=1"),
    ("ctl", "nowidget.x=1"),
    ("ctl", "no-dot=1"),
    ("ctl", 'custom-plot.x="nope"'),
    ("ctl", "histogram.normalised=3"),
    ("group", "nope"),
    ("group", "thumbnail"),
    ("exclude", "nope"),
    ("palette", "nope"),
    ("sig", "maybe"),
    ("mode", "nope"),
    ("data", "https://other.example/x.parquet"),
]
"""(parameter, value) pairs that must each be dropped with a notice naming them."""


@pytest.fixture(scope="module")
def columns(pipeline_report: Path) -> dict[str, str]:
    return report_columns(pipeline_report)


@pytest.mark.parametrize(("key", "value"), CRAFTED)
def test_each_crafted_value_is_dropped_with_a_notice(
    columns: dict[str, str], key: str, value: str
) -> None:
    good = {"group": "file_extension", "filter": '["size_bytes","gt",0]'}
    params: dict[str, str | list[str]] = dict(good)
    if key in params:
        params[key] = [str(params[key]), value]
    else:
        params[key] = value
    bookmark = parse_bookmark(params, columns, load_widgets(), MODES)
    assert len(bookmark.notices) == 1, bookmark.notices
    notice = bookmark.notices[0]
    assert notice.parameter == key
    assert str(notice).startswith(f"ignored the bookmark parameter {key}=")
    assert "Traceback" not in str(notice)
    # The good parts stay.
    assert Filter("size_bytes", "gt", 0) in bookmark.state.filters
    if key != "group":
        assert bookmark.state.group_col == "file_extension"


def test_a_valid_bookmark_round_trips(columns: dict[str, str]) -> None:
    state = ViewState(
        group_col="file_extension",
        filters=(
            Filter("file_extension", "in", ["tif", "png"]),
            Filter("size_bytes", "ge", 10),
            Filter("path", "contains", "ctl"),
        ),
        dims={"Z": 1},
        controls={"image-table": {"limit": 5}, "histogram": {"normalised": True}},
        widgets_excluded=("mosaic",),
        is_show_significance=True,
        palette="okabe-ito",
    )
    params = {**state.to_query_params(), "mode": "Full"}
    bookmark = parse_bookmark(params, columns, load_widgets(), MODES)
    assert bookmark.notices == ()
    assert bookmark.state == state
    assert bookmark.mode == "Full"


def test_number_controls_take_whole_non_negative_numbers(columns: dict[str, str]) -> None:
    bookmark = parse_bookmark({"ctl": "image-table.limit=20.0"}, columns, load_widgets(), MODES)
    assert bookmark.notices == ()
    assert bookmark.state.controls == {"image-table": {"limit": 20}}


@pytest.mark.parametrize(
    ("filter_by", "expected"),
    [
        ({"size_bytes": {"op": "eq", "value": [1, 2]}}, "filter size_bytes eq needs a single"),
        ({"size_bytes": {"op": "in", "value": 5}}, "filter size_bytes in needs a list"),
        ({"size_bytes": {"op": "gt", "value": float("inf")}}, "is not a finite number"),
        ({"size_bytes": {"op": "gt", "value": 10**30}}, "filter size_bytes gt: value"),
        ({"size_bytes": {"op": "gt", "value": True}}, "is not a number"),
        ({"modification_date": {"op": "gt", "value": "soon"}}, "filter modification_date gt"),
        ({"thumbnail": {"op": "eq", "value": "x"}}, "only supports the operators contains"),
        ({"file_extension": {"op": "eq", "value": None}}, "filter file_extension eq needs"),
        ({"file_extension": {"op": "contains", "value": {"a": 1}}}, "needs a single"),
    ],
)
def test_api_view_refuses_filter_values_before_launch(
    pipeline_report: Path, filter_by: dict[str, dict[str, object]], expected: str
) -> None:
    with pytest.raises(FilterValueError) as info:
        api.view(pipeline_report, port=1, open_browser=False, filter_by=filter_by)
    assert isinstance(info.value, InvalidInputError)
    assert expected in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"filter_by": [("size_bytes", "gt", 1)]}, "filter_by must be a dict"),
        ({"dimensions": ["Z", 0]}, "dimensions must be a dict"),
        ({"dimensions": {"Z": 10**30}}, "is not an index >= 0"),
        ({"dimensions": {"Z": 1.5}}, "is not an index >= 0"),
        ({"group_col": "thumbnail"}, "cannot be grouped by"),
        ({"is_show_significance": "yes"}, "is_show_significance must be True or False"),
        ({"palette": 3}, "palette '3' is unknown"),
    ],
)
def test_api_view_refuses_other_bad_options(
    pipeline_report: Path, kwargs: dict[str, object], expected: str
) -> None:
    with pytest.raises(ViewOptionError, match=expected.replace("(", r"\(")):
        api.view(pipeline_report, port=1, open_browser=False, **kwargs)  # type: ignore[arg-type]


def test_good_filter_values_are_coerced(pipeline_report: Path) -> None:
    from pixel_patrol_base.viewing.options import ViewOptions, build_state

    state = build_state(
        report_columns(pipeline_report),
        ViewOptions(
            filter_by={
                "size_bytes": {"op": "in", "value": "10, 20"},
                "modification_date": {"op": "gt", "value": "2020-01-01"},
            },
            widgets_excluded="mosaic,histogram",
        ),
    )
    assert state.filters == (
        Filter("size_bytes", "in", [10, 20]),
        Filter("modification_date", "gt", "2020-01-01"),
    )
    assert state.widgets_excluded == ("mosaic", "histogram")
