"""Time of the QC rule engine on a generated report table of many rows.

Generates N rows (default 1,000,000): image rows (obs_level 0) in 100 QC groups, plus
Z-slice rows for a fifth of the images, with every column the built-in rules read and
a few planted problems. Then evaluates the built-in rules plus four user rules (a
group-relative robust z-score, a slice rule with ``mostly``, a group and a dataset
rule) and prints: the table generation time, the rule parsing time, the evaluation
time, the rows judged per second, and the peak resident memory of the process.

Usage::

    .venv/bin/python bench/bench_qc_engine.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np
import polars as pl

from pixel_patrol_base.qc import evaluate, parse_rules, summary_text

USER_RULES = """
version: 1
rules:
  - id: dim_outlier
    scope: image
    warn: abs(robust_z(log10(mean_intensity))) > 3.5
  - id: plane_saturated
    scope: slice
    fail: bright_clipping_fraction > 0.01
    mostly: 0.95
  - id: mixed_dtypes
    scope: group
    warn: n_unique(dtype) > 1
  - id: uint16_only
    scope: dataset
    fail: fraction(dtype == "uint16") < 0.5
"""


def make_table(rows: int, seed: int = 0) -> pl.DataFrame:
    """A synthetic report table with ``rows`` rows (images and their Z slices)."""
    rng = np.random.default_rng(seed)
    n_images = int(rows / 1.6)  # a fifth of the images have 3 slices: 1 + 0.2 * 3 = 1.6
    idx = np.arange(n_images)
    images = pl.DataFrame(
        {
            "path": [f"g{i % 100}/img_{i}.tif" for i in idx],
            "obs_level": np.zeros(n_images, dtype=np.int16),
            "dim_z": pl.Series([None] * n_images, dtype=pl.Int64),
            "imported_path_short": [f"g{i % 100}" for i in idx],
            "dtype": np.where(idx % 997 == 0, "uint8", "uint16"),
            "dim_order": np.where(idx % 5 == 0, "ZYX", "YX"),
            "size_c": np.ones(n_images, dtype=np.int64),
            "size_z": np.where(idx % 5 == 0, 3, 1),
            "size_t": np.ones(n_images, dtype=np.int64),
            "pixel_size_x": np.where(idx % 1009 == 0, 0.325, 0.1625),
            "pixel_size_y": np.full(n_images, 0.1625),
            "pixel_size_z": np.where(idx % 5 == 0, 0.5, np.nan),
            "pixel_size_unit": ["µm"] * n_images,
            "nan_fraction": np.where(idx % 503 == 0, 0.25, 0.0),
            "std_intensity": rng.uniform(10, 100, n_images),
            "finite_pixel_count": np.full(n_images, 262144, dtype=np.int64),
            "min_intensity": rng.uniform(90, 110, n_images),
            "mean_intensity": rng.lognormal(6, 0.3, n_images),
            "bright_clipping_fraction": np.where(idx % 211 == 0, 0.02, 0.0),
            "dark_clipping_fraction": np.zeros(n_images),
            "load_error": pl.Series([None] * n_images, dtype=pl.String),
            "processor_errors": pl.Series([None] * n_images, dtype=pl.List(pl.String)),
        }
    ).with_columns(
        pl.lit(None, pl.String).alias("child_id"),
        pl.col("pixel_size_z").fill_nan(None),
        pl.lit(["DAPI"]).alias("channel_names"),
    )
    stacks = images.filter(pl.col("size_z") == 3)
    slices = pl.concat(
        [
            stacks.with_columns(
                pl.lit(1, pl.Int16).alias("obs_level"),
                pl.lit(z, pl.Int64).alias("dim_z"),
                pl.lit(1, pl.Int64).alias("size_z"),
            )
            for z in range(3)
        ]
    )
    return pl.concat([images, slices]).head(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    table = make_table(args.rows)
    generated = time.perf_counter() - start

    start = time.perf_counter()
    rules = parse_rules(USER_RULES, "bench_rules.yaml")
    parsed = time.perf_counter() - start

    start = time.perf_counter()
    result = evaluate(table, rules, group_by="imported_path_short")
    elapsed = time.perf_counter() - start

    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mib = peak_kib / 1024 if sys.platform != "darwin" else peak_kib / 2**20
    print(f"rows: {table.height:,}   rules: {len(rules)}   table generated in {generated:.2f} s")
    print(f"rules parsed: {parsed * 1000:.1f} ms")
    print(f"evaluate: {elapsed:.2f} s   {table.height / elapsed:,.0f} rows/s")
    print(f"verdicts kept: {result.results.height:,}   peak RSS: {peak_mib:,.0f} MiB")
    print(summary_text(result))


if __name__ == "__main__":
    main()
