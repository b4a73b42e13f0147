"""docs/rules.md: every YAML example loads and evaluates; every built-in rule is listed."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from pixel_patrol_base.qc import builtin_rules, evaluate, parse_rules

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


def doc_table() -> pl.DataFrame:
    """Two groups of images, one with Z slices, holding every column the examples read."""
    n = 12
    images = pl.DataFrame(
        {
            "path": [f"g{i % 2}/img_{i}.tif" for i in range(n)],
            "child_id": [None] * n,
            "obs_level": [0] * n,
            "dim_z": [None] * n,
            "imported_path_short": [f"g{i % 2}" for i in range(n)],
            "ndim": [3] * n,
            "size_z": [12] * (n - 1) + [4],
            "dtype": ["uint16"] * (n - 1) + ["float32"],
            "pixel_size_x": [0.1625] * (n - 2) + [0.325, 0.1625],
            "pixel_size_unit": ["µm"] * n,
            "bright_clipping_fraction": [0.0] * (n - 1) + [0.02],
            "load_error": [None] * (n - 1) + ["cannot decode"],
            "nan_fraction": [0.0] * 3 + [0.3] + [0.0] * (n - 4),
            "std_intensity": [10.0 + i for i in range(n)],
            "mean_intensity": [100.0 + i for i in range(n)],
        },
        schema_overrides={"child_id": pl.String, "dim_z": pl.Int64},
    )
    slices = (
        images.head(2)
        .join(pl.DataFrame({"z": list(range(4))}), how="cross")
        .with_columns(
            pl.lit(1).alias("obs_level"),
            pl.col("z").alias("dim_z"),
            pl.lit(1).alias("size_z"),
            pl.when(pl.col("z") == 3).then(0.05).otherwise(0.0).alias("bright_clipping_fraction"),
        )
        .drop("z")
    )
    return pl.concat([images, slices], how="vertical_relaxed")


def test_the_doc_has_yaml_examples() -> None:
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_yaml_examples_load_and_evaluate(block: str) -> None:
    rules = parse_rules(block, "docs/rules.md")
    result = evaluate(doc_table(), rules, group_by="imported_path_short")
    own = [rule.id for rule in rules if rule.id not in builtin_rules().ids]
    errors = {k: v for k, v in result.not_evaluated.items() if k in own}
    assert errors == {}  # the examples only read columns the table has
    assert result.rows.height == doc_table().height


def test_doc_examples_give_the_verdicts_the_doc_states() -> None:
    first = parse_rules(BLOCKS[0], "docs/rules.md")
    assert "pixel_size_default" not in first.ids
    result = evaluate(doc_table(), first, group_by="imported_path_short")
    flagged = result.results.filter(pl.col("rule") == "deep_enough")
    assert flagged["path"].to_list() == ["g1/img_11.tif"]
    assert flagged["message"].to_list() == ["only 4 Z planes"]
    known = result.results.filter(pl.col("rule") == "known_dtype")["status"].to_list()
    assert known == ["fail"]
    mostly = evaluate(doc_table(), parse_rules(BLOCKS[1]), group_by="imported_path_short")
    planes = mostly.results.filter(pl.col("rule") == "saturated_planes")
    assert planes.select("path", "status", "message").rows() == [
        ("g0/img_0.tif", "fail", "1 of 4 planes saturated"),
        ("g1/img_1.tif", "fail", "1 of 4 planes saturated"),
    ]
    groups = {(d["rule"], d["group"]): d["status"] for d in mostly.groups}
    assert groups == {("mixed_dtypes", "g0"): "pass", ("mixed_dtypes", "g1"): "warn"}


def test_every_builtin_rule_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for rule in builtin_rules():
        assert f"| `{rule.id}` | {rule.scope.value} |" in text, rule.id
