"""Print the raster-qc metrics of the synthetic QC set, to choose the built-in thresholds.

Writes the camera-model set of ``tests/qc/camera.py`` (30 good 128×128 images and the
planted problems) to a temporary folder, processes it through the real pipeline
(bioio loader, default processors) and prints per group the distribution of each metric
the built-in rules read, then the planted images' values and robust z-scores. The
chosen defaults and the margins they leave are in ``docs/rules.md`` ("Calibration").

Run: ``.venv/bin/python bench/calibrate_qc.py [--scale A B]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "qc"))

from camera import dataset

from pixel_patrol_base import api

METRICS = [
    "snr",
    "signal_fraction",
    "noise_sigma",
    "focus_score",
    "saturated_fraction",
    "black_clipped_fraction",
    "max_plateau_fraction",
    "max_intensity",
    "nan_fraction",
]


def _z(col: str) -> pl.Expr:
    x = pl.col(col)
    med = x.median().over("top_folder")
    mad = (x - med).abs().median().over("top_folder")
    return (0.6745 * (x - med) / mad).alias(f"z_{col}")


def main() -> None:
    """Write, process and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", nargs=2, type=float, default=(1.0, 0.0), metavar=("A", "B"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "data"
        planted = dataset(base, *args.scale)
        project = api.create_project(
            "calibrate", base, output_path=Path(tmp) / "r.parquet", loader="bioio"
        )
        api.process_files(project, max_workers=2)
        table, _ = api.load(project.output_path)
    images = table.filter(pl.col("obs_level") == 0).with_columns(
        (pl.col("snr") * pl.col("noise_sigma")).log10().alias("log_range"),
        (pl.col("noise_sigma") / pl.col("noise_sigma").median().over("top_folder")).alias(
            "noise_ratio"
        ),
        pl.col("snr").log10().alias("log_snr"),
    )
    images = images.with_columns(_z("log_range"), _z("log_snr"), _z("focus_score"))
    pl.Config.set_tbl_rows(100)
    pl.Config.set_tbl_cols(30)
    pl.Config.set_tbl_width_chars(250)
    good = images.filter(pl.col("path").str.contains("good/good"))
    print("good images (30):")
    print(
        good.select(
            [*METRICS, "noise_ratio", "z_log_range", "z_log_snr", "z_focus_score"]
        ).describe()
    )
    planted_rows = images.filter(pl.col("path").is_in([p for p, v in planted.items() if v]))
    print("planted:")
    cols = [
        "path",
        *METRICS,
        "noise_ratio",
        "z_log_range",
        "z_log_snr",
        "z_focus_score",
        "qc_issues",
    ]
    print(planted_rows.select(cols))
    flagged = images.filter(pl.col("qc_issues").list.len() > 0).select(
        "path", "qc_status", "qc_issues"
    )
    print("flagged images:")
    print(flagged.with_columns(pl.col("qc_issues").list.join(",")))
    slices = table.filter((pl.col("obs_level") > 0) & pl.col("path").str.starts_with("stack"))
    print(
        slices.select("path", "dim_z", "focus_score", "mean_intensity", "std_intensity").sort(
            "path", "dim_z"
        )
    )


if __name__ == "__main__":
    main()
