"""The histogram widget equals the same curve computed with numpy from the pixels."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pytest
import tifffile

from pixel_patrol_base.viewing import widgets as pw

GROUP = "imported_path_short"


def _curve(
    images: dict[str, list[npt.NDArray[np.float64]]], scale: tuple[float, float] | None
) -> dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]:
    """Per group: (left bin edges, density) by the rule in docs/widgets.md, in plain numpy."""
    per_image = []
    for group, arrays in images.items():
        for pixels in arrays:
            lo, hi = float(pixels.min()), float(pixels.max())
            counts, edges = np.histogram(pixels, bins=256, range=(lo, hi))
            centres = (edges[:-1] + edges[1:]) / 2
            if scale is not None:
                dmin, dmax = scale
                lo, hi = (lo - dmin) / (dmax - dmin), (hi - dmin) / (dmax - dmin)
                centres = (centres - dmin) / (dmax - dmin)
            per_image.append((group, lo, hi, centres, counts / counts.sum()))
    g0 = min(p[1] for p in per_image)
    g1 = max(p[2] for p in per_image)
    width = (g1 - g0) / 256
    out = {}
    for group in images:
        acc = np.zeros(256)
        rows = [p for p in per_image if p[0] == group]
        for _, _, _, centres, fractions in rows:
            bins = np.clip(np.floor((centres - g0) / (g1 - g0) * 256), 0, 255).astype(int)
            np.add.at(acc, bins, fractions)
        density = acc / len(rows) / width
        out[group] = (g0 + np.arange(256) * width, density)
    return out


def _widget_curve(
    result: pw.WidgetResult, query: str
) -> dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]:
    table = result.data[query]
    out = {}
    for group in set(table.column("group").to_pylist()):
        rows = [r for r in table.to_pylist() if r["group"] == group]
        x = np.full(256, np.nan)
        density = np.zeros(256)
        for r in rows:
            density[r["bin"]] = r["density"]
            x[r["bin"]] = r["x"]
        out[group] = (x, density)
    return out


def _assert_same(got: dict, expected: dict) -> None:  # type: ignore[type-arg]
    assert set(got) == set(expected)
    for group, (x, density) in expected.items():
        gx, gd = got[group]
        np.testing.assert_allclose(gd, density, rtol=1e-9, atol=1e-12)
        filled = ~np.isnan(gx)
        np.testing.assert_allclose(gx[filled], x[filled], rtol=1e-12)
        # Area-normalised: sum(density * width) == 1.
        assert float(np.sum(gd) * (x[1] - x[0])) == pytest.approx(1.0)


@pytest.mark.parametrize("normalised", [False, True])
def test_integer_histogram_equals_numpy(
    pipeline_report: Path,
    report_con: duckdb.DuckDBPyConnection,
    columns: dict[str, str],
    all_widgets: dict[str, pw.Widget],
    normalised: bool,
) -> None:
    data = pipeline_report.parent / "data"
    wells = sorted(data.glob("*/plate */well_*.tif"))
    assert len(wells) == 12
    images: dict[str, list[npt.NDArray[np.float64]]] = {}
    for path in wells:
        images.setdefault(path.relative_to(data).parts[0], []).append(
            tifffile.imread(path).astype(np.float64)
        )
    state = pw.ViewState(
        group_col=GROUP,
        filters=(pw.Filter("name", "contains", "well_"),),
        controls={"histogram": {"normalised": normalised}},
    )
    result = pw.run_widget(report_con, all_widgets["histogram"], state, columns)
    assert result.data["float_hist"].num_rows == 0
    expected = _curve(images, (0.0, 65535.0) if normalised else None)
    _assert_same(_widget_curve(result, "int_hist"), expected)


def test_float_histogram_equals_numpy(all_widgets: dict[str, pw.Widget]) -> None:
    rng = np.random.default_rng(7)
    images = {
        "a": [rng.normal(0, 1, 4000), rng.normal(1, 2, 3000)],
        "b": [rng.uniform(-3, 5, 5000)],
    }
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE pp_data (path VARCHAR, child_id VARCHAR, obs_level SMALLINT, dtype VARCHAR,"
        " cond VARCHAR, histogram_counts BIGINT[], histogram_min DOUBLE, histogram_max DOUBLE)"
    )
    for group, arrays in images.items():
        for i, pixels in enumerate(arrays):
            counts, _ = np.histogram(pixels, bins=256, range=(pixels.min(), pixels.max()))
            con.execute(
                "INSERT INTO pp_data VALUES (?, NULL, 0, 'float32', ?, ?, ?, ?)",
                [f"{group}{i}.tif", group, counts.tolist(), pixels.min(), pixels.max()],
            )
    columns = pw.table_columns(con)
    widget = all_widgets["histogram"]
    pw.prepare_widgets(con, [widget], columns)
    result = pw.run_widget(con, widget, pw.ViewState(group_col="cond"), columns)
    assert result.data["int_hist"].num_rows == 0
    _assert_same(_widget_curve(result, "float_hist"), _curve(images, None))
    con.close()


@pytest.mark.parametrize("log_y", [False, True])
def test_the_log_toggle_swaps_each_plot_for_its_log_scale_twin(
    all_widgets: dict[str, pw.Widget], log_y: bool
) -> None:
    widget = all_widgets["histogram"]
    columns = {"obs_level": "SMALLINT", "dtype": "VARCHAR", "histogram_counts": "BIGINT[]"}
    columns |= {"histogram_min": "DOUBLE", "histogram_max": "DOUBLE"}
    values = pw.resolve_controls(
        widget, pw.ViewState(controls={"histogram": {"log_y": log_y}}), columns
    )
    some = pa.table({"x": [1.0]})
    result = pw.WidgetResult("histogram", {"int_hist": some, "float_hist": some.slice(0, 0)})
    shown = [v["id"] for v in widget.specs if pw.view_visible(v, result, values)]
    assert shown == (["int_hist_log"] if log_y else ["int_hist"])  # no float rows: no float plot
    log_view = next(v for v in widget.specs if v["id"] == "int_hist_log")
    assert log_view["spec"]["encoding"]["y"]["scale"] == {"type": "log"}
    assert log_view["spec"]["transform"] == [{"filter": "datum.density > 0"}]  # log(0) undefined
