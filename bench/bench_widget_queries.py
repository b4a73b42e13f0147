"""Query time of every widget declaration on a generated table of many image rows.

Generates a table of N (default 1,000,000) image rows (obs_level 0) with 256-bin
histograms, PNG-sized thumbnails and every column the built-in widgets use, plus Z slice
rows for 2% of the images, in an in-memory DuckDB as ``pp_data``. Then prints:

* the time to generate the table and to run every widget's ``prepare`` step;
* a baseline: a plain Python DuckDB ``GROUP BY`` over the table (count and mean of one
  column per group), measured in the same run;
* per widget, the time of ``run_widget`` (all its queries) for the first group column and
  again after a group change, each as seconds and as a ratio to the baseline;
* the Issues page (the widgets with ``"page": "issues"``) summed, the work of its first
  draw (target: at most 3 s for 1,000,000 images, issue 18).

The table has the QC and duplicate columns: 1 image in 7 has two warn issues, 1 in 997 a
load error and a fail, and 1 in 250 is in a duplicate pair.

Usage::

    .venv/bin/python bench/bench_widget_queries.py [--rows 1000000] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

import duckdb

from pixel_patrol_base.processors.compression import NAMES as COMPRESSION_NAMES
from pixel_patrol_base.processors.quality import NAMES as QUALITY_NAMES
from pixel_patrol_base.qc import load_rules
from pixel_patrol_base.viewing import widgets as pw
from pixel_patrol_base.viewing.widgets.model import ImageRef

QUALITY = QUALITY_NAMES + COMPRESSION_NAMES
ISSUES_TARGET_S = 3.0

TABLE_SQL = """
CREATE OR REPLACE TABLE pp_data AS
WITH base AS (
  SELECT i, CASE WHEN i % 50 = 0 THEN 5 ELSE 0 END AS nz FROM range({rows}) t(i)
), img AS (
  SELECT i, nz, 'cond_' || (i % 4) || '/plate_' || (i % 12) || '/img_' || i || '.tif' AS path
  FROM base
), levels AS (
  SELECT img.*, 0 AS lvl, NULL::BIGINT AS z FROM img
  UNION ALL SELECT img.*, 1, z.z FROM img, range(5) z(z) WHERE img.nz > 0
)
SELECT path, NULL::VARCHAR AS child_id, lvl::SMALLINT AS obs_level, NULL::BIGINT AS dim_t,
  NULL::BIGINT AS dim_c, z AS dim_z, NULL::BIGINT AS dim_s,
  'img_' || i || '.tif' AS name, 'cond_' || (i % 4) || '/plate_' || (i % 12) AS parent,
  2 AS depth, CASE WHEN i % 10 = 0 THEN 'png' ELSE 'tif' END AS file_extension,
  (20000 + (i * 7919) % 50000)::BIGINT AS size_bytes,
  TIMESTAMPTZ '2024-01-01' + to_days((i % 30)::INTEGER) AS modification_date,
  'cond_' || (i % 4) AS imported_path, 'cond_' || (i % 4) AS imported_path_short,
  'file' AS type, CASE WHEN i % 997 = 0 THEN 'broken' END AS load_error,
  CASE WHEN lvl = 0 THEN CASE WHEN i % 3 = 0 THEN 'float32' ELSE 'uint16' END END AS dtype,
  CASE WHEN lvl = 0 THEN CASE WHEN nz > 0 THEN 'ZYX' ELSE 'YX' END END AS dim_order,
  CASE WHEN lvl = 0 THEN [512, 512] END AS shape, 2::SMALLINT AS ndim, 1 AS n_images,
  512 + (i % 3) * 128 AS size_x, 512::BIGINT AS size_y,
  CASE WHEN nz > 0 THEN CASE WHEN lvl = 0 THEN 5 ELSE 1 END END::BIGINT AS size_z,
  NULL::BIGINT AS size_c,
  (i % 1000)::DOUBLE AS min_intensity, (3000 + i % 5000)::DOUBLE AS max_intensity,
  (1000 + (i * 31) % 2000)::DOUBLE AS mean_intensity, (100 + i % 300)::DOUBLE AS std_intensity,
  0.0 AS nan_fraction,
  {quality},
  list_transform(range(256), lambda b: ((b * 13 + i) % 101)::BIGINT) AS histogram_counts,
  (i % 1000)::DOUBLE AS histogram_min, (3000 + i % 5000)::DOUBLE AS histogram_max,
  CASE WHEN lvl = 0 THEN ('\\x89PNG' || repeat('x', 600))::BLOB END AS thumbnail,
  CASE WHEN i % 997 = 0 THEN 'fail' WHEN i % 7 = 0 THEN 'warn' ELSE 'pass' END AS qc_status,
  CASE WHEN i % 997 = 0 THEN ['unreadable'] WHEN i % 7 = 0 THEN ['pixel_size_default', 'dark']
    ELSE []::VARCHAR[] END AS qc_issues,
  CASE WHEN i % 997 = 0 THEN ['fail'] WHEN i % 7 = 0 THEN ['warn', 'warn']
    ELSE []::VARCHAR[] END AS qc_levels,
  CASE WHEN i % 997 = 0 THEN ['unreadable: broken'] WHEN i % 7 = 0
    THEN ['pixel size 1.0 x 1.0 µm', 'dark: peak SNR 3.1'] ELSE []::VARCHAR[] END AS qc_messages,
  NULL::VARCHAR[] AS load_warnings, NULL::VARCHAR[] AS processor_errors,
  CASE WHEN lvl = 0 AND i % 500 < 2 THEN 'dup-' || (i // 500) END AS duplicate_set,
  CASE WHEN lvl = 0 AND i % 500 < 2 THEN 'exact' END AS duplicate_kind,
  CASE WHEN lvl = 0 AND i % 500 = 1 THEN replace(path, 'img_' || i, 'img_' || (i - 1)) END
    AS duplicate_of
FROM levels
"""


def _footer_qc(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """The footer's ``qc`` entry as the merge writes it: the built-in rules, their verdicts
    counted from the table's ``qc_issues``/``qc_levels`` (so ``pp_rules`` matches pp_data)."""
    counted = con.execute(
        "SELECT issue, level, count(*) FROM (SELECT unnest(qc_issues) AS issue, "
        "unnest(qc_levels) AS level FROM pp_data WHERE obs_level = 0) GROUP BY ALL"
    ).fetchall()
    rules = load_rules().rules
    counts: dict[str, dict[str, int]] = {rule.id: {} for rule in rules}
    for issue, level, n in counted:
        counts.setdefault(issue, {})[level] = int(n)
    info = {rule.id: {"scope": rule.scope, "source": rule.source} for rule in rules}
    return {"rule_counts": counts, "rule_info": info, "groups": [], "dataset": []}


def _time(fn: object, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="image rows (default 1e6)")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads (default 2)")
    args = parser.parse_args()

    con = duckdb.connect()
    con.execute(f"SET threads = {int(args.threads)}")
    quality = ", ".join(f"((i * {k + 3}) % 97)::DOUBLE / 97 AS {n}" for k, n in enumerate(QUALITY))
    start = time.perf_counter()
    con.execute(TABLE_SQL.format(rows=int(args.rows), quality=quality))
    total = con.execute("SELECT count(*) FROM pp_data").fetchall()[0][0]
    print(f"table: {args.rows} image rows, {total} rows, {time.perf_counter() - start:.1f} s")

    pw.add_qc_tables(con, _footer_qc(con))  # pp_rules, pp_qc_results: the footer's QC
    columns = pw.table_columns(con)
    widgets = pw.load_widgets()
    start = time.perf_counter()
    pw.prepare_widgets(con, widgets.values(), columns)
    print(f"prepare (all widgets): {time.perf_counter() - start:.2f} s")

    def baseline() -> None:
        con.sql(
            "SELECT imported_path_short, count(*), avg(mean_intensity) FROM pp_data "
            "WHERE obs_level = 0 GROUP BY 1"
        ).fetchall()

    base = _time(baseline)
    print(f"baseline GROUP BY (Python DuckDB): {base * 1000:.1f} ms")
    print(f"{'widget':<28} {'group A ms':>10} {'ratio':>7} {'group B ms':>10} {'ratio':>7}")
    totals = [0.0, 0.0]
    issues = [0.0]
    first = con.execute('SELECT min("path") FROM pp_data WHERE "obs_level" = 0').fetchall()
    one_image = ImageRef(str(first[0][0]))
    for widget in widgets.values():
        cells = []
        for k, group in enumerate(("imported_path_short", "file_extension")):
            state = pw.ViewState(group_col=group)
            if widget.page == "image":  # only ever run on one image: the first path's
                state = pw.ViewState(group_col=group, image=one_image).image_view()
            start = time.perf_counter()  # first run for this group: no cache anywhere
            pw.run_widget(con, widget, state, columns)
            seconds = time.perf_counter() - start
            totals[k] += seconds
            if widget.page == "issues" and k == 0:
                issues[0] += seconds
            cells.append(f"{seconds * 1000:>10.1f} {seconds / base:>7.1f}")
        print(f"{widget.id:<28} {' '.join(cells)}")
    print(
        f"{'all widgets':<28} {totals[0] * 1000:>10.1f} {totals[0] / base:>7.1f} "
        f"{totals[1] * 1000:>10.1f} {totals[1] / base:>7.1f}"
    )
    print(
        f"Issues page (first draw, {args.rows} images): {issues[0]:.2f} s, "
        f"{issues[0] / base:.1f}x baseline (target at most {ISSUES_TARGET_S:.0f} s)"
    )


if __name__ == "__main__":
    main()
