"""Group-by choices, the default grouping and the group colour scale, in both runtimes.

``grouping_vectors.json`` holds the cases; Python (``query.py``) and JavaScript
(``viewer/static/src/grouping.js``, run under node straight from the tree) must both
reproduce them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pixel_patrol_base import resources
from pixel_patrol_base.viewing.widgets import palettes, query

VECTORS = Path(__file__).parent / "grouping_vectors.json"
CASES: list[dict[str, Any]] = json.loads(VECTORS.read_text("utf-8"))["cases"]
SRC = resources.viewer_dir() / "static" / "src"

NODE_RUNNER = """
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const [src, vectors] = process.argv.slice(1);
const g = await import(pathToFileURL(`${src}/grouping.js`).href);
const out = [];
for (const c of JSON.parse(readFileSync(vectors, "utf-8")).cases) {
  if (c.function === "group_choices") out.push(g.groupChoices(...c.args));
  else if (c.function === "group_count_sql") out.push(g.groupCountSql(...c.args));
  else {
    const [columns, distinct] = c.args;
    const sql = async (text) => [{ n: distinct[/"([^"]+)"/.exec(text)[1]] }];
    out.push(await g.defaultGroupCol(columns, sql));
  }
}
console.log(JSON.stringify(out));
"""


def _table_with(columns: dict[str, str], distinct: dict[str, int]) -> duckdb.DuckDBPyConnection:
    """A ``pp_data`` whose images have ``distinct[c]`` distinct values in column ``c``."""
    con = duckdb.connect(":memory:")
    rows = max([*distinct.values(), 1])
    selects = [f'(i % {distinct.get(c, 1)})::VARCHAR AS "{c}"' for c in columns]
    con.execute(
        f"CREATE TABLE pp_data AS SELECT 0 AS obs_level, {', '.join(selects)} "
        f"FROM range({rows}) t(i)"
    )
    return con


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_python_reproduces_the_grouping_vectors(case: dict[str, Any]) -> None:
    if case["function"] == "group_choices":
        assert query.group_choices(*case["args"]) == case["expected"]
    elif case["function"] == "group_count_sql":
        assert query.group_count_sql(*case["args"]) == case["expected"]
    else:
        columns, distinct = case["args"]
        con = _table_with(columns, distinct)
        assert query.default_group_col(columns, con) == case["expected"]


def test_javascript_reproduces_the_grouping_vectors() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing; install Node.js (it also builds the static viewer)")
    proc = subprocess.run(
        [node, "--input-type=module", "-e", NODE_RUNNER, str(SRC), str(VECTORS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout) == [c["expected"] for c in CASES]


def test_offered_groups_counts_integer_values_in_the_table() -> None:
    con = duckdb.connect(":memory:")
    con.execute(
        "CREATE TABLE pp_data AS SELECT 0::SMALLINT AS obs_level, 'x/' || i AS path, "
        "(i % 3)::BIGINT AS dim_t, i::BIGINT AS size_bytes, i * 0.5 AS mean_intensity, "
        "'a' AS parent FROM range(30) t(i)"
    )
    choices = query.offered_groups(con, query.table_columns(con))
    assert choices == [["parent", "folder"], ["dim_t", "dim_t"]]


def test_charts_get_the_report_domain_and_the_mosaic_the_same_colours() -> None:
    spec = {
        "layer": [
            {"mark": "bar", "encoding": {"color": {"field": "group", "type": "nominal"}}},
            {"mark": "rule", "encoding": {"color": {"field": "other", "type": "nominal"}}},
            {
                "mark": "point",
                "encoding": {"fill": {"field": "group", "scale": {"domain": ["kept"]}}},
            },
        ]
    }
    domain = palettes.group_domain(["zeta", None, "alpha", "mid", "alpha"])
    assert domain == ["alpha", "mid", "zeta"]
    out = palettes.apply_palette(spec, "set2", domain)
    set2 = list(palettes.PALETTES["set2"])
    assert out["layer"][0]["encoding"]["color"]["scale"] == {"domain": domain, "range": set2[:3]}
    assert "scale" not in out["layer"][1]["encoding"]["color"]
    assert out["layer"][2]["encoding"]["fill"]["scale"] == {"domain": ["kept"]}
    assert "scale" not in spec["layer"][0]["encoding"]["color"]  # the declaration is untouched
    # the mosaic shows only zeta, yet zeta keeps its chart colour (third of the domain)
    assert dict(palettes.group_colors(["zeta"], "set2", domain))["zeta"] == set2[2]
    assert palettes.group_colors([None], "set2", domain)[-1] == ("", set2[3])
