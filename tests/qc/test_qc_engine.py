"""The QC engine on small report tables: verdicts, mostly, errors, row status, summaries."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import numpy as np
import polars as pl
import pytest

from pixel_patrol_base.errors import NotAReportError, SettingsError
from pixel_patrol_base.qc import QcResult, evaluate, parse_rules, summary_counts, summary_text


def rules(text: str) -> Any:
    return parse_rules("version: 1\nextends: none\n" + textwrap.dedent(text).lstrip("\n"))


def images(n: int, **columns: list[Any]) -> pl.DataFrame:
    base: dict[str, Any] = {
        "path": [f"img_{i:02d}.tif" for i in range(n)],
        "child_id": [None] * n,
        "obs_level": [0] * n,
        "dim_z": [None] * n,
    }
    base.update(columns)
    return pl.DataFrame(base, schema_overrides={"child_id": pl.String, "dim_z": pl.Int64})


def stack(path: str, planes: int, clipped: set[int]) -> pl.DataFrame:
    """One image row and its Z slices; the planes in ``clipped`` are 2 % saturated."""
    values = [0.02 if z in clipped else 0.0 for z in range(planes)]
    return pl.DataFrame(
        {
            "path": [path] * (planes + 1),
            "child_id": [None] * (planes + 1),
            "obs_level": [0] + [1] * planes,
            "dim_z": [None, *range(planes)],
            "bright_clipping_fraction": [float(np.mean(values)), *values],
        },
        schema_overrides={"child_id": pl.String, "dim_z": pl.Int64},
    )


MOSTLY = """
rules:
  - id: saturated_planes
    scope: slice
    fail: bright_clipping_fraction > 0.01
    mostly: 0.95
    message: "{n_bad} of {n} planes saturated ({value:.0%})"
"""


def status_of(result: QcResult, path: str, level: int = 0) -> str:
    rows = result.rows.filter((pl.col("path") == path) & (pl.col("obs_level") == level))
    return str(rows["qc_status"][0])


def test_mostly_one_failing_slice_of_20_passes_two_fail() -> None:
    table = pl.concat(
        [stack("one.tif", 20, {3}), stack("two.tif", 20, {3, 11}), stack("none.tif", 20, set())]
    )
    result = evaluate(table, rules(MOSTLY))
    assert status_of(result, "one.tif") == "pass"
    assert status_of(result, "two.tif") == "fail"
    assert status_of(result, "none.tif") == "pass"
    assert status_of(result, "two.tif", level=1) == "pass"  # with mostly the verdict is the image's
    verdicts = result.results
    assert verdicts["path"].to_list() == ["two.tif"]  # passing verdicts are left out
    assert verdicts["obs_level"].to_list() == [0]
    assert verdicts["message"].to_list() == ["2 of 20 planes saturated (10%)"]
    assert verdicts["value"].to_list() == pytest.approx([0.1])
    assert result.rule_counts["saturated_planes"] == {
        "pass": 2,
        "warn": 0,
        "error": 0,
        "fail": 1,
        "skip": 0,
    }
    everything = evaluate(table, rules(MOSTLY), include_passing=True).results
    assert sorted(everything["status"].to_list()) == ["fail", "pass", "pass"]


def test_mostly_at_group_and_dataset_scope() -> None:
    table = images(10, g=["a"] * 5 + ["b"] * 5, x=[0, 0, 0, 0, 1, 0, 0, 0, 1, 1])
    result = evaluate(
        table,
        rules(
            """
            rules:
              - {id: grp, scope: group, warn: x > 0, mostly: 0.75}
              - {id: ds, scope: dataset, fail: x > 0, mostly: 0.75}
            """
        ),
        group_by="g",
    )
    groups = {(d["rule"], d["group"]): d for d in result.groups}
    assert groups[("grp", "a")]["status"] == "pass"  # 4 of 5 good = 0.8 ≥ 0.75
    assert groups[("grp", "b")]["status"] == "warn"  # 3 of 5 good = 0.6
    assert groups[("grp", "b")]["value"] == pytest.approx(0.4)
    assert [(d["rule"], d["status"], d["group"]) for d in result.dataset] == [("ds", "fail", None)]
    assert set(result.rows["qc_status"]) == {"pass"}  # group and dataset verdicts mark no row


def test_slice_verdicts_mark_the_slice_and_its_image() -> None:
    table = pl.concat([stack("a.tif", 4, {1, 2}), stack("b.tif", 4, set())])
    result = evaluate(
        table,
        rules(
            """
            rules:
              - id: saturated_plane
                scope: slice
                warn: bright_clipping_fraction > 0.01
                message: "plane {dim_z}: {value:.1%} saturated"
            """
        ),
    )
    assert result.results["dim_z"].to_list() == [1, 2]
    assert result.results["message"].to_list() == [
        "plane 1: 2.0% saturated",
        "plane 2: 2.0% saturated",
    ]
    rows = result.rows.with_columns(table["dim_z"])
    flagged = rows.filter(pl.col("qc_status") != "pass")
    assert flagged.select("path", "obs_level", "dim_z").rows() == [
        ("a.tif", 0, None),
        ("a.tif", 1, 1),
        ("a.tif", 1, 2),
    ]
    image = flagged.row(0, named=True)
    assert image["qc_issues"] == ["saturated_plane"]
    assert image["qc_messages"] == ["plane 1: 2.0% saturated (+1 more slices)"]
    assert summary_counts(result)["images"] == 2
    assert summary_text(result) == "QC: 1 pass, 1 warn (saturated_plane), 0 fail"


def test_missing_column_gives_error_never_pass() -> None:
    table = images(3, x=[1.0, 2.0, 3.0], kind=["a", "b", "a"])
    result = evaluate(
        table,
        rules(
            """
            rules:
              - {id: snr, warn: peak_snr < 10}
              - {id: filtered, where: "kind == 'a'", fail: focus < 0}
              - {id: bad_where, where: nope > 1, fail: x > 100}
              - {id: grp, scope: group, fail: n_unique(missing) > 1}
              - {id: optional, warn: peak_snr < 10, if_missing: skip}
              - {id: fine, warn: x > 2}
            """
        ),
    )
    by_rule = result.results.group_by("rule").agg(pl.col("status"), pl.col("path"))
    got = {
        r["rule"]: (sorted(r["status"]), sorted(p or "" for p in r["path"]))
        for r in by_rule.to_dicts()
    }
    all_paths = sorted(table["path"])
    assert got["snr"] == (["error"] * 3, all_paths)
    assert got["filtered"] == (["error"] * 2, ["img_00.tif", "img_02.tif"])  # where still applies
    assert got["bad_where"] == (["error"] * 3, all_paths)
    assert got["grp"] == (["error"], [""])
    assert got["fine"] == (["warn"], ["img_02.tif"])
    assert "optional" not in got
    assert result.not_evaluated["snr"] == "column 'peak_snr' is not in the table"
    assert "left out" in result.not_evaluated["optional"]
    assert result.rule_counts["snr"]["pass"] == 0
    assert set(result.rows["qc_status"]) == {"error"}
    assert result.rows["qc_issues"][2].to_list() == ["snr", "filtered", "bad_where", "fine"]
    message = result.results.filter(pl.col("rule") == "snr")["message"][0]
    assert message == "snr: not evaluated: column 'peak_snr' is not in the table"


def test_type_errors_and_non_boolean_conditions_give_error() -> None:
    table = images(2, dtype=["uint8", "uint16"], x=[1.0, 2.0])
    result = evaluate(
        table,
        rules(
            """
            rules:
              - {id: compare, warn: dtype > 3}
              - {id: number, warn: x + 1}
            """
        ),
    )
    assert result.results["status"].to_list() == ["error"] * 4
    assert "not true/false" in result.not_evaluated["number"]
    assert result.not_evaluated["compare"]


def test_fail_wins_over_warn_and_on_null() -> None:
    table = images(5, x=[0.0, 0.02, 0.2, None, 0.6], y=[None, None, None, None, 1.0])
    result = evaluate(
        table,
        rules(
            """
            rules:
              - {id: sat, warn: x >= 0.01, fail: x >= 0.1, message: "{value:.2f} at {path}"}
              - {id: strict, warn: x >= 0.5, on_null: error}
              - {id: y_null, fail: y > 0, on_null: warn}
            """
        ),
        include_passing=True,
    )
    sat = result.results.filter(pl.col("rule") == "sat")
    assert sat["status"].to_list() == ["pass", "warn", "fail", "fail"]  # the null row is skipped
    assert sat["message"].to_list() == [
        "0.00 at img_00.tif",
        "0.02 at img_01.tif",
        "0.20 at img_02.tif",
        "0.60 at img_04.tif",
    ]
    assert result.rule_counts["sat"] == {"pass": 1, "warn": 1, "error": 0, "fail": 2, "skip": 1}
    strict = result.results.filter(pl.col("rule") == "strict")["status"].to_list()
    assert strict == ["pass", "pass", "pass", "error", "warn"]
    y_null = result.results.filter(pl.col("rule") == "y_null")["status"].to_list()
    assert y_null == ["warn", "warn", "warn", "warn", "fail"]
    assert result.rows["qc_status"].to_list() == ["warn", "warn", "fail", "error", "fail"]


def test_group_relative_outlier_matches_numpy_per_group() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(100, 5, 40)
    x[[4, 25]] = [160.0, 30.0]
    groups = ["a"] * 20 + ["b"] * 20
    table = images(40, g=groups, x=x.tolist())
    result = evaluate(
        table,
        rules(
            "rules:\n  - {id: outlier, warn: abs(robust_z(x)) > 3.5, message: 'z = {value:.2f}'}\n"
        ),
        group_by="g",
    )
    expected = []
    for start in (0, 20):
        part = x[start : start + 20]
        median = np.median(part)
        z = 0.6745 * (part - median) / np.median(np.abs(part - median))
        expected += [start + i for i in np.flatnonzero(np.abs(z) > 3.5)]
    flagged = [int(p[4:6]) for p in result.results["path"]]
    assert flagged == expected and {4, 25} <= set(flagged)
    assert result.results["group"].to_list() == ["a" if i < 20 else "b" for i in expected]
    whole = evaluate(table, rules("rules:\n  - {id: o, warn: abs(robust_z(x)) > 3.5}\n"))
    z_all = 0.6745 * (x - np.median(x)) / np.median(np.abs(x - np.median(x)))
    assert [int(p[4:6]) for p in whole.results["path"]] == list(np.flatnonzero(np.abs(z_all) > 3.5))


def test_slice_comparison_sets_and_within() -> None:
    rows = []
    for image in ("a", "b"):
        for z in range(10):
            focus = 10.0 if image == "a" else 20.0
            rows.append((f"{image}.tif", 1, z, focus - (5.0 if (image, z) == ("a", 9) else 0.0)))
    table = pl.DataFrame(rows, schema=["path", "obs_level", "dim_z", "focus"], orient="row")
    table = pl.concat(
        [
            table,
            pl.DataFrame(
                {
                    "path": ["a.tif", "b.tif"],
                    "obs_level": [0, 0],
                    "dim_z": [None, None],
                    "focus": [None, None],
                }
            ),
        ],
        how="vertical_relaxed",
    )
    text = "rules:\n  - {id: drop, scope: slice, warn: focus < max(focus) - 1%s}\n"
    per_set = evaluate(table, rules(text % ""))  # all slices of the dataset compared
    assert len(per_set.results) == 10  # every plane of a is below b's maximum
    per_stack = evaluate(table, rules(text % ", within: [path]"))
    assert per_stack.results.select("path", "dim_z").rows() == [("a.tif", 9)]


def test_summary_text_and_footer() -> None:
    table = images(
        8,
        load_error=[None] * 7 + ["cannot decode"],
        bright_clipping_fraction=[0.0, 0.0, 0.0, 0.002, 0.05, 0.0, 0.0, None],
        nan_fraction=[0.0, 0.0, 0.02, 0.02, 0.0, 0.0, 0.0, None],
    )
    result = evaluate(
        table,
        rules(
            """
            rules:
              - {id: unreadable, fail: load_error is not null, message: "unreadable: {load_error}"}
              - id: saturated
                warn: bright_clipping_fraction >= 0.001
                fail: bright_clipping_fraction >= 0.01
              - {id: nan_heavy, warn: nan_fraction >= 0.01}
              - {id: broken, scope: dataset, warn: fraction(load_error is not null) > 0.1}
            """
        ),
    )
    assert (
        summary_text(result)
        == "QC: 4 pass, 2 warn (2 nan_heavy, 1 saturated), 2 fail (1 saturated, 1 unreadable)"
    )
    counts = summary_counts(result)
    assert {k: counts[k] for k in ("images", "pass", "warn", "error", "fail")} == {
        "images": 8,
        "pass": 4,
        "warn": 2,
        "error": 0,
        "fail": 2,
    }
    assert counts["by_issue"] == {
        "unreadable": {"fail": 1},
        "saturated": {"warn": 1, "fail": 1},
        "nan_heavy": {"warn": 2},
    }
    footer = json.loads(json.dumps(result.footer(), allow_nan=False))
    assert footer["rules"] == ["unreadable", "saturated", "nan_heavy", "broken"]
    assert footer["dataset"] == [
        {
            "rule": "broken",
            "status": "warn",
            "group": None,
            "value": 0.125,
            "value_text": "0.125",
            "message": "broken: load_error = 0.125",
        }
    ]
    annotated = result.annotate(table)
    assert annotated.height == table.height
    assert annotated["qc_issues"][4].to_list() == ["saturated"]
    assert annotated["qc_messages"][7].to_list() == ["unreadable: cannot decode"]
    assert annotated["qc_issues"][0].to_list() == []


def test_bad_table_or_group_column_is_refused() -> None:
    with pytest.raises(NotAReportError, match="obs_level"):
        evaluate(pl.DataFrame({"path": ["a"]}), rules("rules:\n  - {id: a, warn: x > 1}\n"))
    with pytest.raises(SettingsError, match="'nope'"):
        evaluate(images(2, x=[1, 2]), rules("rules:\n  - {id: a, warn: x > 1}\n"), group_by="nope")


def test_no_rules_and_empty_table() -> None:
    table = images(3, x=[1, 2, 3])
    result = evaluate(table, [])
    assert result.results.height == 0
    assert result.rows["qc_status"].to_list() == ["pass"] * 3
    assert summary_text(result) == "QC: 3 pass, 0 warn, 0 fail"
    empty = evaluate(
        table.head(0),
        rules("rules:\n  - {id: a, warn: x > 1}\n  - {id: d, scope: dataset, warn: x > 1}\n"),
    )
    assert empty.rows.height == 0 and empty.dataset == []


def test_smoke_50k_rows_with_builtins() -> None:
    n = 50_000
    idx = np.arange(n)
    table = images(
        n,
        imported_path_short=[f"g{i % 10}" for i in idx],
        load_error=[("boom" if i % 1000 == 0 else None) for i in idx],
        processor_errors=[(["thumbnail: boom"] if i % 2003 == 5 else None) for i in idx],
        dtype=np.where(idx % 997 == 1, "uint8", "uint16").tolist(),
        nan_fraction=np.where(idx % 503 == 2, 0.25, 0.0).tolist(),
        std_intensity=(10.0 + idx % 7).tolist(),
        finite_pixel_count=[1000] * n,
        min_intensity=[1.0] * n,
        saturated_fraction=np.where(idx % 211 == 3, 0.02, 0.0).tolist(),  # raster-qc
        saturation_level=[65535.0] * n,
        pixel_size_x=np.where(idx % 1009 == 4, 0.325, 0.1625).tolist(),
        pixel_size_y=[0.1625] * n,
    )
    from pixel_patrol_base.qc import builtin_rules

    result = evaluate(table, builtin_rules(), group_by="imported_path_short")
    counts = summary_counts(result)["by_issue"]
    assert counts["unreadable"] == {"fail": int(np.sum(idx % 1000 == 0))}
    assert counts["dtype_mismatch"] == {"warn": int(np.sum(idx % 997 == 1))}
    assert counts["nan_heavy"] == {"warn": int(np.sum(idx % 503 == 2))}
    assert counts["saturated"] == {"fail": int(np.sum(idx % 211 == 3))}
    assert counts["pixel_size_mismatch"] == {"warn": int(np.sum(idx % 1009 == 4))}
    assert counts["processor_failed"] == {"warn": int(np.sum(idx % 2003 == 5))}
    assert result.rows.height == n
    errors = {k: v for k, v in result.not_evaluated.items() if not v.startswith("left out")}
    assert errors == {}


def test_sub_images_keep_their_own_slices_and_groups() -> None:
    table = pl.DataFrame(
        {
            "path": ["plate.czi"] * 6,
            "child_id": ["0", "0", "0", "1", "1", "1"],
            "obs_level": [0, 1, 1, 0, 1, 1],
            "dim_z": [None, 0, 1, None, 0, 1],
            "well": ["A1", None, None, "B2", None, None],
            "nan_fraction": [0.0, 0.0, 0.0, 0.5, 0.0, 1.0],
        }
    )
    result = evaluate(
        table,
        rules("rules:\n  - {id: nan_plane, scope: slice, warn: nan_fraction == 1}\n"),
        group_by="well",
    )
    assert result.rows["qc_status"].to_list() == ["pass", "pass", "pass", "warn", "pass", "warn"]
    assert result.results.select("child_id", "dim_z", "group").rows() == [("1", 1, "B2")]


def test_where_selects_the_comparison_set_too() -> None:
    x = [10.0, 11, 12, 13, 14, 15, 16, 17, 30, 1000]
    table = images(10, x=x, ok=[True] * 9 + [False])
    text = "rules:\n  - {id: o, warn: robust_z(x) > 3.5%s}\n"
    with_all = evaluate(table, rules(text % ""), include_passing=True)
    only_ok = evaluate(table, rules(text % ", where: ok"), include_passing=True)
    assert len(with_all.results) == 10 and len(only_ok.results) == 9
    part = np.array(x[:9])
    z = 0.6745 * (part - np.median(part)) / np.median(np.abs(part - np.median(part)))
    np.testing.assert_allclose(only_ok.results["value"].to_numpy(), z)
    assert only_ok.results.filter(pl.col("status") == "warn")["path"].to_list() == ["img_08.tif"]


def test_if_missing_null_judges_a_missing_column_as_nulls() -> None:
    # pixel_size_x exists only once some image states a size: no column, no size anywhere
    table = images(3, x=[1.0, 2.0, 3.0])
    result = evaluate(
        table,
        rules(
            """
            rules:
              - {id: no_size, warn: pixel_size_x is null, if_missing: "null"}
              - {id: default_size, warn: pixel_size_x == 1, if_missing: "null"}
            """
        ),
    )
    assert result.rule_counts["no_size"]["warn"] == 3
    assert result.rule_counts["default_size"]["warn"] == 0  # null == 1 is not true
    assert "no_size" not in result.not_evaluated
    assert set(result.rows["qc_status"]) == {"warn"}
