"""Built-in rules on hand-made tables: Z stacks, saturation, reports without raster-qc."""

from __future__ import annotations

import polars as pl

from pixel_patrol_base.qc import builtin_rules, evaluate

QC_RULES = {
    "empty",
    "dark",
    "noisy",
    "blurry",
    "out_of_focus_plane",
    "focus_peak_at_edge",
    "saturated",
    "suspected_saturation",
    "black_clipped",
}


def stack(path: str, focus: list[float], copy: int | None = None) -> pl.DataFrame:
    """One image row and its Z planes; plane ``copy`` repeats the statistics of the one before."""
    n = len(focus)
    stats = [float(z) for z in range(n)]
    if copy is not None:
        stats[copy] = stats[copy - 1]
    planes = pl.DataFrame(
        {
            "path": [path] * n,
            "obs_level": [1] * n,
            "dim_z": list(range(n)),
            "focus_score": focus,
            "mean_intensity": [100.0 + s for s in stats],
            "std_intensity": [10.0 + s for s in stats],
            "min_intensity": [90.0] * n,
            "max_intensity": [300.0 + s for s in stats],
        }
    )
    image = planes.head(1).with_columns(
        pl.lit(0, pl.Int64).alias("obs_level"), pl.lit(None, pl.Int64).alias("dim_z")
    )
    return pl.concat([image, planes]).with_columns(
        pl.lit(None, pl.String).alias("child_id"), pl.lit(None, pl.String).alias("load_error")
    )


def planes_flagged(table: pl.DataFrame, rule: str) -> dict[str, list[int]]:
    result = evaluate(table, builtin_rules())
    rows = result.results.filter(pl.col("rule") == rule)
    return {
        p: sorted(rows.filter(pl.col("path") == p)["dim_z"].to_list()) for p in set(rows["path"])
    }


def test_focus_peak_at_edge_and_out_of_focus_planes() -> None:
    curve = [-3.9, -3.4, -3.0, -2.7, -2.4, -2.25, -2.2, -2.25, -2.4, -2.7, -3.0, -3.5, -3.9]
    table = pl.concat(
        [
            stack("mid.tif", curve),
            stack("cut.tif", curve[:7]),
            stack("flat.tif", [-2.2, -2.21, -2.19, -2.2, -2.18]),  # peak at the edge, flat
            stack("short.tif", [-3.0, -2.0, -1.0]),  # too few planes for a peak verdict
        ]
    )
    assert planes_flagged(table, "focus_peak_at_edge") == {"cut.tif": [6]}
    assert planes_flagged(table, "out_of_focus_plane") == {
        "mid.tif": [0, 1, 2, 10, 11, 12],
        "cut.tif": [0, 1, 2],
        "short.tif": [0, 1],
    }


def test_duplicate_rules_read_the_sets_of_the_merge() -> None:
    # The merge writes duplicate_kind (exact, near, plane); the rules only read it.
    kinds = {("dup.tif", 3): "plane", ("dup.tif", 4): "plane", ("ok.tif", None): None}
    table = pl.concat([stack("dup.tif", [-2.0] * 6), stack("ok.tif", [-2.0] * 6)])
    table = table.with_columns(
        pl.struct("path", "dim_z")
        .map_elements(lambda r: kinds.get((r["path"], r["dim_z"])), return_dtype=pl.String)
        .alias("duplicate_kind"),
        pl.lit("dup-000000000000").alias("duplicate_set"),
        pl.col("path").alias("duplicate_of"),
    )
    copies = images(mean_intensity=[1.0, 2.0, 3.0]).with_columns(
        duplicate_kind=pl.Series(["exact", "near", None], dtype=pl.String),
        duplicate_set=pl.Series(["dup-a", "dup-b", None], dtype=pl.String),
        duplicate_of=pl.Series(["i0.tif", "i1.tif", None], dtype=pl.String),
    )
    assert planes_flagged(table, "duplicate_plane") == {"dup.tif": [3, 4]}
    result = evaluate(pl.concat([table, copies], how="diagonal_relaxed"), builtin_rules())
    flagged = result.results.filter(pl.col("rule") == "duplicate")
    assert sorted(flagged["path"].to_list()) == ["i0.tif", "i1.tif"]
    assert set(flagged["status"].to_list()) == {"warn"}
    messages = result.results.filter(pl.col("rule") == "duplicate")["message"].to_list()
    assert any("exact duplicate (set dup-a, first copy i0.tif)" in m for m in messages)


def images(**columns: list[object]) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    base: dict[str, list[object]] = {
        "path": [f"i{k}.tif" for k in range(n)],
        "obs_level": [0] * n,
        "load_error": [None] * n,
    }
    return pl.DataFrame(
        {**base, "child_id": [None] * n, **columns}, schema_overrides={"child_id": pl.String}
    )


def test_saturation_against_the_declared_depth_and_suspected_from_the_plateau() -> None:
    table = images(
        saturated_fraction=[0.0, 0.002, 0.02, 0.0, 0.0, 0.0126],
        saturation_level=[65535.0, 4095.0, 4095.0, 65535.0, 65535.0, 4095.0],
        max_plateau_fraction=[6e-5, 0.002, 0.02, 0.0126, 0.0126, 0.0126],
        max_intensity=[812.0, 4095.0, 4095.0, 4095.0, 4000.0, 4095.0],
    )
    result = evaluate(table, builtin_rules())
    rows = result.results.filter(pl.col("scope") == "image").iter_rows(named=True)
    verdicts = {(r["rule"], r["path"]): r["status"] for r in rows}
    assert verdicts == {
        ("saturated", "i1.tif"): "warn",
        ("saturated", "i2.tif"): "fail",
        ("saturated", "i5.tif"): "fail",
        ("suspected_saturation", "i3.tif"): "warn",  # plateau at 4095 = 2^12 - 1, not declared
    }


def test_a_report_without_raster_qc_skips_its_rules_without_errors() -> None:
    table = images(
        dtype=["uint16"] * 3,
        std_intensity=[5.0, 6.0, 7.0],
        finite_pixel_count=[100] * 3,
        min_intensity=[1.0] * 3,
        max_intensity=[90.0] * 3,
        mean_intensity=[50.0] * 3,
        size_z=[1] * 3,
        pixel_size_x=[0.2] * 3,
        pixel_size_y=[0.2] * 3,
    )
    result = evaluate(table, builtin_rules())
    assert set(result.rows["qc_status"]) == {"pass"}
    for rule in QC_RULES:
        assert result.not_evaluated[rule].startswith("left out"), rule
    errors = {k: v for k, v in result.not_evaluated.items() if not v.startswith("left out")}
    assert errors == {}
