"""Every widget's query results against polars computations of the same numbers."""

from __future__ import annotations

import math
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pytest

from pixel_patrol_base import errors
from pixel_patrol_base.viewing import widgets as pw

GROUP = "imported_path_short"
IMAGES = pl.col("obs_level") == 0


@pytest.fixture(scope="module")
def run(
    report_con: duckdb.DuckDBPyConnection,
    columns: dict[str, str],
    all_widgets: dict[str, pw.Widget],
) -> Any:
    def go(widget_id: str, **state: Any) -> dict[str, list[dict[str, Any]]]:
        state.setdefault("group_col", GROUP)
        result = pw.run_widget(report_con, all_widgets[widget_id], pw.ViewState(**state), columns)
        assert result.hidden_reason is None
        return {name: table.to_pylist() for name, table in result.data.items()}

    return go


def _files(df: pl.DataFrame) -> pl.DataFrame:
    return (
        df.filter(IMAGES)
        .group_by("path")
        .agg(
            pl.col(GROUP).first(),
            pl.col("size_bytes").first(),
            pl.col("file_extension").first(),
            pl.col("load_error").is_not_null().any().alias("failed"),
            pl.col("dtype").is_not_null().sum().alias("images"),
        )
    )


def test_summary(run: Any, report_df: pl.DataFrame) -> None:
    data = run("summary")
    files = _files(report_df)
    (kpi,) = data["kpis"]
    assert kpi == {
        "files": files.height,
        "images": report_df.filter(IMAGES & pl.col("dtype").is_not_null()).height,
        "slices": report_df.filter(pl.col("obs_level") >= 1).height,
        "total_bytes": files["size_bytes"].sum(),
        "extensions": files["file_extension"].n_unique(),
        "failed_files": files["failed"].sum(),
    }
    assert kpi["failed_files"] == 1
    expected = files.group_by(GROUP).agg(
        pl.len().alias("files"), pl.col("size_bytes").sum(), pl.col("failed").sum()
    )
    got = {r["group"]: (r["files"], r["total_bytes"], r["failed_files"]) for r in data["by_group"]}
    assert got == {r[0]: (r[1], r[2], r[3]) for r in expected.rows()}


def test_summary_ignores_dims_but_follows_filters(run: Any, report_df: pl.DataFrame) -> None:
    data = run("summary", filters=(pw.Filter("file_extension", "eq", "png"),), dims={"Z": 1})
    assert (
        data["kpis"][0]["files"]
        == report_df.filter(IMAGES & (pl.col("file_extension") == "png")).height
    )


def test_image_table(run: Any, report_df: pl.DataFrame) -> None:
    data = run("image-table")
    paths = report_df.filter(IMAGES).sort("path")["path"].to_list()
    assert [r["path"] for r in data["rows"]] == paths
    # the rows list every image, the failed file too; the tile counts the images read
    read = report_df.filter(IMAGES & pl.col("load_error").is_null()).height
    assert 0 < read < len(paths)
    assert data["count"] == [{"images": read}]
    limited = run("image-table", controls={"image-table": {"limit": 5}})
    assert [r["path"] for r in limited["rows"]] == paths[:5]


def test_file_stats(run: Any, report_df: pl.DataFrame) -> None:
    data = run("file-stats")
    files = _files(report_df)
    expected = files.group_by(GROUP, "file_extension").agg(
        pl.len().alias("files"), pl.col("size_bytes").sum()
    )
    got = {
        (r["group"], r["file_extension"]): (r["files"], r["total_bytes"]) for r in data["by_ext"]
    }
    assert got == {(r[0], r[1]): (r[2], r[3]) for r in expected.rows()}
    constant = {r["property"] for r in data["constants"]}
    assert "type" in constant
    assert "file_extension" not in constant  # tif, png, jpg...
    one_ext = run("file-stats", filters=(pw.Filter("file_extension", "eq", "png"),))
    props = {r["property"]: r["value"] for r in one_ext["constants"]}
    assert props["file_extension"] == "png"
    assert one_ext["ext_values"] == []  # so the by-extension charts are not drawn
    assert data["ext_values"] == [{"varies": 1}]


@pytest.mark.parametrize("size_by", ["files", "bytes"])
def test_sunburst(run: Any, report_df: pl.DataFrame, size_by: str) -> None:
    data = run("sunburst", controls={"sunburst": {"size_by": size_by}})
    files = report_df.filter(IMAGES).group_by("path").agg(pl.col("parent", "size_bytes").first())
    value = pl.len() if size_by == "files" else pl.col("size_bytes").sum()
    top = files.with_columns(pl.col("parent").str.split("/").list.get(0).alias("top"))
    expected = dict(top.group_by("top").agg(value).rows())
    level1 = {r["node"]: r["value"] for r in data["nodes"] if r["level"] == 1}
    assert level1 == expected
    plates = {r["node"]: r["value"] for r in data["nodes"] if r["level"] == 2}
    assert set(plates) == {
        "control/plate 1",
        "control/plate 2",
        "treated/plate 1",
        "treated/plate 2",
    }
    last = max((r for r in data["nodes"] if r["level"] == 1), key=lambda r: r["theta2"])
    assert last["theta2"] == pytest.approx(2 * math.pi)


def test_metadata(run: Any, report_df: pl.DataFrame) -> None:
    data = run("metadata")
    images = report_df.filter(IMAGES)
    expected = (
        images.with_columns(pl.col("dtype").fill_null("(none)")).group_by(GROUP, "dtype").len()
    )
    assert {(r["group"], r["dtype"]): r["images"] for r in data["dtype"]} == {
        (r[0], r[1]): r[2] for r in expected.rows()
    }
    ranges = {r["axis"]: (r["min_size"], r["max_size"]) for r in data["ranges"]}
    assert ranges["size_x"] == (images["size_x"].min(), images["size_x"].max())
    assert ranges["size_z"] == (images["size_z"].min(), images["size_z"].max())
    shared_all = {r["property"]: r["value"] for r in data["shared"]}
    assert shared_all == {"n_images": "1"}  # uint8 and uint16, YX/ZYX/CYX/YXS differ
    wells = run("metadata", filters=(pw.Filter("name", "contains", "well"),))
    shared = {r["property"]: r["value"] for r in wells["shared"]}
    assert shared["dtype"] == "uint16"
    assert shared["dim_order"] == "YX"


def test_dim_size(run: Any, report_df: pl.DataFrame) -> None:
    data = run("dim-size")
    images = report_df.filter(IMAGES & pl.col("size_x").is_not_null())
    expected = images.group_by(GROUP, "size_x", "size_y").len()
    got = {(r["group"], r["size_x"], r["size_y"]): r["images"] for r in data["xy"]}
    assert got == {(r[0], r[1], r[2]): r[3] for r in expected.rows()}
    strips = {(r["group"], r["axis"], r["size"]): r["images"] for r in data["strips"]}
    z = images.filter(pl.col("size_z").is_not_null()).group_by(GROUP, "size_z").len()
    for group, size, n in z.rows():
        assert strips[(group, "size_z", size)] == n


def test_mosaic(run: Any, report_df: pl.DataFrame) -> None:
    for order in ("descending", "ascending"):
        data = run("mosaic", controls={"mosaic": {"sort_by": "std_intensity", "order": order}})
        thumbs = report_df.filter(IMAGES & pl.col("thumbnail").is_not_null())
        expected = thumbs.sort(["std_intensity", "path"], descending=[order == "descending", False])
        assert [r["path"] for r in data["tiles"]] == expected["path"].to_list()
        assert data["tiles"][0]["thumbnail"].startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("widget_id", "metric"),
    [("violin-basic", "mean_intensity"), ("violin-quality", "laplacian_variance")],
)
def test_violins(run: Any, report_df: pl.DataFrame, widget_id: str, metric: str) -> None:
    data = run(widget_id)
    rows = report_df.filter(IMAGES & pl.col(metric).is_not_null())
    for group, values in rows.group_by(GROUP).agg(pl.col(metric)).rows():
        got = sorted(r["value"] for r in data["points"] if r["group"] == group)
        assert got == pytest.approx(sorted(values))
        (box,) = [b for b in data["box"] if b["group"] == group]
        assert box["median"] == pytest.approx(float(np.median(values)))
        assert box["q1"] == pytest.approx(float(np.quantile(values, 0.25)))
        assert box["n"] == len(values)


def test_violin_per_slice_and_dims(run: Any, report_df: pl.DataFrame) -> None:
    per_z = run("violin-basic", controls={"violin-basic": {"slice_by": "Z"}})
    z_rows = report_df.filter((pl.col("obs_level") == 1) & pl.col("dim_z").is_not_null())
    assert len(per_z["points"]) == z_rows.height == 20
    sel = run("violin-basic", dims={"Z": 2})
    expected = report_df.filter((pl.col("obs_level") == 1) & (pl.col("dim_z") == 2))
    assert sorted(r["value"] for r in sel["points"]) == pytest.approx(
        sorted(expected["mean_intensity"].to_list())
    )


def test_violin_significance_brackets(run: Any, report_df: pl.DataFrame) -> None:
    data = run("violin-basic")
    groups: dict[str, list[float]] = {}
    for r in data["points"]:
        groups.setdefault(r["group"], []).append(r["value"])
    (bracket,) = pw.mann_whitney_brackets({k: np.array(v) for k, v in groups.items()})
    a, b = (np.array(groups[k]) for k in (bracket.group_a, bracket.group_b))
    # U by definition: pairs with a > b, ties counting one half.
    u = float(np.sum(a[:, None] > b[None, :]) + 0.5 * np.sum(a[:, None] == b[None, :]))
    assert bracket.u_statistic == pytest.approx(u)


@pytest.mark.parametrize("widget_id", ["stats-across-dims-basic", "stats-across-dims-quality"])
def test_stats_across_dims(run: Any, report_df: pl.DataFrame, widget_id: str) -> None:
    metric = "mean_intensity" if widget_id.endswith("basic") else "laplacian_variance"
    data = run(widget_id, controls={widget_id: {"axis": "dim_z", "metric": metric}})
    images = report_df.filter(IMAGES).group_by(GROUP).len()
    n_images = dict(images.rows())
    z = report_df.filter((pl.col("obs_level") == 1) & pl.col("dim_z").is_not_null())
    expected = z.group_by(GROUP, "dim_z").agg(pl.col(metric).mean(), pl.len())
    got = {(r["group"], r["index"]): r for r in data["series"]}
    assert len(got) == expected.height == 10
    for group, index, mean, n in expected.rows():
        row = got[(group, index)]
        assert row["value"] == pytest.approx(mean)
        assert row["share"] == pytest.approx(n / n_images[group])
    by_c = run(widget_id, controls={widget_id: {"axis": "dim_c", "metric": metric}})
    assert {r["index"] for r in by_c["series"]} == {0, 1, 2}


def test_custom_plot(run: Any, report_df: pl.DataFrame) -> None:
    controls = {"custom-plot": {"chart": "bar", "x": "dtype", "y": "size_bytes"}}
    data = run("custom-plot", controls=controls)
    expected = (
        report_df.filter(IMAGES)
        .with_columns(pl.col("dtype").cast(pl.String))
        .group_by(GROUP, "dtype")
        .agg(pl.len(), pl.col("size_bytes").mean())
    )
    got = {(r["group"], r["x_text"]): (r["n"], r["y_mean"]) for r in data["agg"]}
    assert got == {(r[0], r[1]): (r[2], pytest.approx(r[3])) for r in expected.rows()}
    heat = {(r["x_text"], r["y_text"]): r["n"] for r in data["heat"]}
    assert sum(heat.values()) == report_df.filter(IMAGES).height


def test_unknown_columns_in_state_are_typed(
    report_con: duckdb.DuckDBPyConnection,
    columns: dict[str, str],
    all_widgets: dict[str, pw.Widget],
) -> None:
    widget = all_widgets["violin-basic"]
    with pytest.raises(errors.UnknownColumnError, match="'nope' is not in the table"):
        pw.run_widget(report_con, widget, pw.ViewState(group_col="nope"), columns)
    with pytest.raises(errors.WidgetStateError, match="takes one of"):
        pw.run_widget(
            report_con, widget, pw.ViewState(controls={"violin-basic": {"metric": "path"}}), columns
        )
    with pytest.raises(errors.WidgetStateError, match="has no control"):
        pw.run_widget(
            report_con, widget, pw.ViewState(controls={"violin-basic": {"bins": 3}}), columns
        )


def test_default_group_col(report_con: duckdb.DuckDBPyConnection, columns: dict[str, str]) -> None:
    assert pw.default_group_col(columns, report_con) == "imported_path_short"


def test_palette_colors() -> None:
    assert pw.palette_colors(None, 12)[10] == pw.palette_colors("tableau10", 1)[0]
    with pytest.raises(errors.WidgetStateError, match="use one of"):
        pw.palette_colors("rainbow", 3)
