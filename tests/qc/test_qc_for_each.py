"""``for_each`` and ``fallback`` rules, and ``robust_z``'s spread when MAD = 0."""

from __future__ import annotations

import textwrap
from typing import Any

import polars as pl
import pytest

from pixel_patrol_base.errors import RulesFileError
from pixel_patrol_base.qc import builtin_rules, evaluate, parse_rules


def rules(text: str) -> Any:
    return parse_rules("version: 1\nextends: none\n" + textwrap.dedent(text).lstrip("\n"))


def images(**columns: list[Any]) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    base: dict[str, Any] = {
        "path": [f"img_{i:02d}.tif" for i in range(n)],
        "child_id": [None] * n,
        "obs_level": [0] * n,
    }
    return pl.DataFrame({**base, **columns}, schema_overrides={"child_id": pl.String})


OUTLIERS = """
rules:
  - id: too_bright
    warn: mean_intensity > 1000
  - id: outlier
    for_each: [mean_intensity, snr, not_a_column]
    fallback: true
    warn: abs(robust_z(each)) > 3.5
    message: "unusual {column} (z {value:.1f})"
    if_missing: skip
"""


def issues(result: Any) -> dict[str, list[str]]:
    return {r["path"]: r["qc_messages"] for r in result.rows.iter_rows(named=True)}


def test_for_each_judges_every_listed_column_and_names_it() -> None:
    table = images(
        mean_intensity=[100.0 + i for i in range(10)] + [500.0],
        snr=[20.0 + i % 3 for i in range(10)] + [21.0],
    )
    table = table.vstack(
        images(mean_intensity=[104.0], snr=[90.0]).with_columns(path=pl.lit("x.tif"))
    )
    result = evaluate(table, rules(OUTLIERS))
    found = {p: m for p, m in issues(result).items() if m}
    assert set(found) == {"img_10.tif", "x.tif"}
    assert found["img_10.tif"][0].startswith("unusual mean_intensity (z ")
    assert found["x.tif"][0].startswith("unusual snr (z ")
    # the column the table lacks is left out, not an error
    assert "outlier" not in result.not_evaluated
    assert result.rule_counts["outlier"]["warn"] == 2


def test_fallback_leaves_rows_that_another_rule_flagged() -> None:
    table = images(
        mean_intensity=[100.0 + i for i in range(10)] + [5000.0],
        snr=[20.0] * 11,
    )
    result = evaluate(table, rules(OUTLIERS))
    assert issues(result)["img_10.tif"] == ["too_bright: mean_intensity = 5000.0"]
    without = rules(OUTLIERS.replace("fallback: true", "fallback: false"))
    result = evaluate(table, without)
    assert len(issues(result)["img_10.tif"]) == 2


def test_robust_z_falls_back_to_the_mean_absolute_deviation() -> None:
    # 8 of 10 values equal: MAD = 0, MeanAD = (4 + 40) / 10 = 4.4
    table = images(x=[10.0] * 8 + [14.0, 50.0])
    z = evaluate(
        table,
        rules("rules:\n  - id: odd\n    warn: abs(robust_z(x)) > 3.5\n"),
        include_passing=True,
    ).results.sort("path")["value"]
    assert z.to_list()[-2:] == pytest.approx([4 / (1.253314 * 4.4), 40 / (1.253314 * 4.4)])


def test_robust_z_floor_bounds_the_spread() -> None:
    table = images(x=[10.0, 10.1, 9.9, 10.0, 10.05, 9.95, 10.0, 10.0, 10.02, 11.0])
    text = "rules:\n  - id: odd\n    warn: abs(robust_z(x, 0.5)) > 3.5\n"
    result = evaluate(table, rules(text), include_passing=True)
    values = dict(zip(result.results["path"], result.results["value"], strict=True))
    assert values["img_09.tif"] == pytest.approx(0.6745 * 1.0 / 0.5)
    assert result.rule_counts["odd"]["warn"] == 0


@pytest.mark.parametrize(
    ("body", "fault"),
    [
        ("for_each: [a]\n    warn: a > 1", "placeholder column 'each'"),
        ("for_each: a\n    warn: each > 1", "expected a list of column names"),
        ("for_each: [a]\n    scope: group\n    warn: each > 1", "expected scope image or slice"),
        ("fallback: yes please\n    warn: a > 1", "expected true or false"),
    ],
)
def test_bad_for_each_and_fallback_are_refused(body: str, fault: str) -> None:
    with pytest.raises(RulesFileError, match=fault):
        rules(f"rules:\n  - id: odd\n    {body}\n")


def test_builtin_outlier_rule_reads_its_columns() -> None:
    rule = builtin_rules().get("outlier")
    assert rule is not None and rule.fallback
    assert {"mean_intensity", "focus_score", "dtype"} <= set(rule.columns)
    assert "each" not in rule.columns
