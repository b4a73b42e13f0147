"""Real ND2, CZI and LIF files through the real pipeline, with the ``bioio`` loader.

The files come from ``../shared/testdata/real`` (see its README); the test environment
installs ``pixel-patrol[formats]``. One Snakemake run processes a copy of them.

- Every file is read: where bioio's plugin fails (DAPI_GFP.czi, both LIF files) or
  presents the file otherwise than its library stores it (the Airyscan phases, the
  mosaic tiles), the format's library reads it, and ``load_warnings`` says why.
- Every image's pixel count and statistics equal an independent NumPy reference over
  arrays read directly with the format's library: liffile's arrays, aicspylibczi's
  subblocks one by one (each mosaic tile alone), the bioio plugin's own array where its
  reading stands.
- Each image's declared bit depth reaches the report and sets the saturation level.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from .conftest import Run

pytestmark = pytest.mark.slow

REAL = Path(__file__).resolve().parents[2].parent / "shared/testdata/real"
FILES = (
    "nd2/cluster.nd2",
    "czi/LSM880_AiryScan.czi",
    "czi/S3_1Pos_2Mosaic_T1_Z1_CH1.czi",
    "czi/xyz__multiple_images.czi",
    "czi/DAPI_GFP.czi",
    "lif/LeicaLASX_wavelength-sweep_example.lif",
    "lif/testdata_2channel_xz.lif",
)
DECLARED = {  # path -> bits per image (ComponentBitCount, bitsPerComponentSignificant...)
    "nd2/cluster.nd2": [12],
    "czi/LSM880_AiryScan.czi": [12, 12],
    "czi/S3_1Pos_2Mosaic_T1_Z1_CH1.czi": [14, 14, 14],
    "czi/xyz__multiple_images.czi": [16, 16],
    "czi/DAPI_GFP.czi": [8],
    "lif/LeicaLASX_wavelength-sweep_example.lif": [8, 8, 8],
    "lif/testdata_2channel_xz.lif": [8, 8, 8],
}
READ_BY = {  # path -> format_reader of its rows
    "nd2/cluster.nd2": "bioio-nd2",
    "czi/xyz__multiple_images.czi": "bioio-czi",
    "czi/LSM880_AiryScan.czi": "aicspylibczi",
    "czi/S3_1Pos_2Mosaic_T1_Z1_CH1.czi": "aicspylibczi",
    "czi/DAPI_GFP.czi": "aicspylibczi",
    "lif/LeicaLASX_wavelength-sweep_example.lif": "liffile",
    "lif/testdata_2channel_xz.lif": "liffile",
}


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    from pixel_patrol_base import api

    for plugin in ("bioio_nd2", "bioio_czi", "bioio_lif", "liffile", "aicspylibczi"):
        pytest.importorskip(plugin, reason="needs pixel-patrol[formats]")
    base = tmp_path_factory.mktemp("real") / "data"
    for name in FILES:
        if not (REAL / name).exists():
            pytest.skip(f"{REAL / name} is not here (../shared/testdata/real)")
        (base / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REAL / name, base / name)
    out = base.parent / "report.parquet"
    project = api.process_files(
        api.create_project("real", base, loader="bioio", output_path=out), max_workers=2
    )
    df, meta = api.load(out)
    assert project.last_run is not None
    return Run(df, meta, project.last_run, report=out)


def _level0(run: Run) -> pl.DataFrame:
    return run.df.filter(pl.col("obs_level") == 0).sort("path", "child_id")


def _stats(pixels: np.ndarray) -> tuple[int, float, float, float]:
    values = pixels.astype(np.float64)
    return values.size, float(values.min()), float(values.max()), float(values.mean())


def _row_stats(rows: pl.DataFrame) -> tuple[int, float, float, float]:
    """The statistics of ``rows`` taken together (the images a scene was split into)."""
    n = int(rows["num_pixels"].sum())
    mean = float((rows["mean_intensity"] * rows["num_pixels"]).sum()) / n
    return n, float(rows["min_intensity"].min()), float(rows["max_intensity"].max()), mean


def _assert_stats(rows: pl.DataFrame, reference: np.ndarray, label: str) -> None:
    n, low, high, mean = _row_stats(rows)
    ref_n, ref_low, ref_high, ref_mean = _stats(reference)
    assert (n, low, high) == (ref_n, ref_low, ref_high), label
    assert mean == pytest.approx(ref_mean, rel=1e-9), label


def test_every_file_is_read_by_its_first_library_that_can(real_run: Run) -> None:
    rows = _level0(real_run)
    assert rows["load_error"].null_count() == rows.height
    assert real_run.summary["failed"] == 0
    for path, reader in READ_BY.items():
        assert set(rows.filter(pl.col("path") == path)["format_reader"]) == {reader}, path
    assert "unreadable" not in rows["qc_issues"].explode().to_list()


def test_each_hand_over_says_why_in_load_warnings(real_run: Run) -> None:
    rows = _level0(real_run)
    for path, reader in READ_BY.items():
        listed = rows.filter(pl.col("path") == path)["load_warnings"].to_list()
        first = [w[0] if w else None for w in listed]
        if reader.startswith("bioio"):
            assert first == [None] * len(first), path
        elif path.endswith(".lif"):
            assert all(w.startswith(("bioio-lif presents", "bioio-lif misreads")) for w in first)
        else:
            assert all("bioio-czi" in w for w in first), path
    [dapi] = rows.filter(pl.col("path") == "czi/DAPI_GFP.czi")["load_warnings"].to_list()
    assert "distance scale for dimension 'Y'" in dapi[0]
    sweep = rows.filter(pl.col("child_id") == "x_y_lambdaEmi")
    [warnings] = sweep["load_warnings"].to_list()
    assert warnings == [
        "bioio-lif presents this image as YX (64, 64), 4,096 pixels where the file stores "
        "81,920; read with liffile",
    ]
    assert sweep["dim_order"].to_list() == ["YXE"]  # the sweep is an axis of its own


def test_lif_statistics_equal_liffiles_own_arrays(real_run: Run) -> None:
    import liffile

    rows = _level0(real_run)
    for path in (p for p in FILES if p.endswith(".lif")):
        with liffile.LifFile(REAL / path) as lif:
            mine = rows.filter(pl.col("path") == path)
            assert mine.height == len(lif.images), path
            for image in lif.images:
                one = mine.filter(pl.col("child_id") == image.name)
                _assert_stats(one, image.asarray(), f"{path}[{image.name}]")


def _czi_planes(path: Path) -> dict[int | None, list[np.ndarray]]:
    """Every subblock of the CZI ``path``, read alone, per scene: each mosaic tile and
    each Airyscan phase of each channel is one read."""
    from aicspylibczi import CziFile

    planes: dict[int | None, list[np.ndarray]] = defaultdict(list)
    with (REAL / path).open("rb") as file:
        czi = CziFile(file)
        for dims, _ in czi.read_subblock_metadata():
            pixels, _ = czi.read_image(**dims)
            planes[dims.get("S")].append(pixels)
    return planes


@pytest.mark.parametrize(
    ("path", "ids"),
    [
        # the Airyscan file: one scene split by channel (32 phases for C0-3, 1 for C4-7)
        ("czi/LSM880_AiryScan.czi", {None: ["C0-3", "C4-7"]}),
        # the mosaic: each scene's tiles, not the stitched scene with its gaps
        ("czi/S3_1Pos_2Mosaic_T1_Z1_CH1.czi", {0: ["TR1"], 1: ["P1"], 2: ["TR2"]}),
        ("czi/DAPI_GFP.czi", {None: [None]}),
    ],
)
def test_czi_statistics_equal_a_subblock_by_subblock_reference(
    real_run: Run, path: str, ids: dict[int | None, list[str | None]]
) -> None:
    rows = _level0(real_run).filter(pl.col("path") == path)
    planes = _czi_planes(Path(path))
    assert set(planes) == set(ids)
    for scene, children in ids.items():
        mine = rows.filter(
            pl.col("child_id").is_null()
            if children == [None]
            else pl.col("child_id").is_in(children)
        )
        assert mine.height == len(children), (path, scene)
        reference = np.concatenate([p.ravel() for p in planes[scene]])
        _assert_stats(mine, reference, f"{path}[{scene}]")


def test_the_mosaic_tiles_alone_give_the_scenes_statistics(real_run: Run) -> None:
    rows = _level0(real_run).filter(pl.col("path") == "czi/S3_1Pos_2Mosaic_T1_Z1_CH1.czi")
    [tiles] = rows.filter(pl.col("child_id") == "TR2").iter_rows(named=True)
    # its tiles alone give 1,038.1; bioio-czi's stitched scene, gaps included, 760.8
    assert tiles["mean_intensity"] == pytest.approx(1038.11, abs=0.01)
    assert tiles["min_intensity"] > 0
    assert tiles["dim_order"] == "YXM" and tiles["size_m"] == 17


@pytest.mark.parametrize(
    ("path", "child_id", "axis", "extent"),
    [
        ("czi/LSM880_AiryScan.czi", "C0-3", "h", 32),  # Airyscan detector phases
        ("czi/S3_1Pos_2Mosaic_T1_Z1_CH1.czi", "TR2", "m", 17),  # mosaic tiles
        ("lif/LeicaLASX_wavelength-sweep_example.lif", "x_y_lambdaEmi", "e", 20),  # λ
    ],
)
def test_a_further_axis_has_rows_of_its_own(
    real_run: Run, path: str, child_id: str, axis: str, extent: int
) -> None:
    image = real_run.df.filter((pl.col("path") == path) & (pl.col("child_id") == child_id))
    [whole] = image.filter(pl.col("obs_level") == 0).iter_rows(named=True)
    assert whole[f"size_{axis}"] == extent and whole[f"dim_{axis}"] is None
    others = [c for c in image.columns if c.startswith("dim_") and c != f"dim_{axis}"]
    slices = image.filter(
        (pl.col("obs_level") == 1)
        & pl.col(f"dim_{axis}").is_not_null()
        & pl.all_horizontal(pl.col(c).is_null() for c in others)
    ).sort(f"dim_{axis}")
    assert slices[f"dim_{axis}"].to_list() == list(range(extent))
    assert slices[f"size_{axis}"].unique().to_list() == [1]
    # the slices partition the image: together they give its pixel count and statistics
    assert _row_stats(slices) == pytest.approx(
        (whole["num_pixels"], whole["min_intensity"], whole["max_intensity"],
         whole["mean_intensity"]), rel=1e-9
    )  # fmt: skip


def test_the_viewers_widgets_name_and_select_a_further_axis(real_run: Run) -> None:
    import duckdb

    from pixel_patrol_base.viewing import widgets as pw
    from pixel_patrol_base.viewing.widgets.model import ImageRef

    con = duckdb.connect(":memory:")
    con.execute(f"CREATE VIEW pp_data AS SELECT * FROM read_parquet('{real_run.report}')")
    columns = pw.table_columns(con)
    widgets = pw.load_widgets()

    def run(widget_id: str, state: pw.ViewState) -> dict[str, list[dict[str, Any]]]:
        result = pw.run_widget(con, widgets[widget_id], state, columns)
        return {name: table.to_pylist() for name, table in result.data.items()}

    airyscan = ImageRef("czi/LSM880_AiryScan.czi", "C0-3")
    image = pw.ViewState(image=airyscan).image_view()
    slices = run("image-slices", image)["slices"]
    phases = {r["index"]: r["value"] for r in slices
              if r["axis"] == "H" and r["metric"] == "mean_intensity"}  # fmt: skip
    expected = real_run.df.filter(
        (pl.col("child_id") == "C0-3") & (pl.col("obs_level") == 1) & pl.col("dim_h").is_not_null()
    )
    pairs = zip(expected["dim_h"], expected["mean_intensity"], strict=True)
    assert phases == pytest.approx(dict(pairs))
    assert len(phases) == 32
    # a report widget restricted to one phase: the rows that fix H=3 alone
    one = run("violin-basic", pw.ViewState(dims={"H": 3}))["points"]
    assert [r["value"] for r in one] == pytest.approx(
        expected.filter(pl.col("dim_h") == 3)["mean_intensity"].to_list()
    )
    labels = {r["where"] for r in run("image-qc", image).get("issues", [])}
    assert all(label == "whole image" or "=" in label for label in labels)


def test_statistics_equal_the_plugins_own_array_where_its_reading_stands(
    real_run: Run,
) -> None:
    from bioio import BioImage

    rows = _level0(real_run)
    for path in ("nd2/cluster.nd2", "czi/xyz__multiple_images.czi"):
        image = BioImage(REAL / path)
        mine = rows.filter(pl.col("path") == path)
        assert mine.height == len(image.scenes), path
        for index, scene in enumerate(image.scenes):
            # a file of one scene is one image (no child id); scenes are named children
            one = mine if len(image.scenes) == 1 else mine.filter(pl.col("child_id") == scene)
            image.set_scene(index)
            _assert_stats(one, np.asarray(image.dask_data), f"{path}[{index}]")


def test_each_image_carries_its_declared_bit_depth_and_saturation_level(real_run: Run) -> None:
    rows = _level0(real_run)
    for path, bits in DECLARED.items():
        mine = rows.filter(pl.col("path") == path)
        assert mine["declared_bit_depth"].to_list() == bits, path
        assert mine["saturation_level"].to_list() == [2.0**b - 1 for b in bits], path
        assert (mine["bits_used"] <= mine["declared_bit_depth"]).all(), path


def test_no_pixel_size_without_a_stated_unit(real_run: Run) -> None:
    rows = _level0(real_run)
    sized = rows.filter(pl.col("pixel_size_x").is_not_null())
    assert sized["pixel_size_unit"].null_count() == 0
    # DAPI_GFP.czi states its scaling in pixels only: no physical size
    [dapi] = rows.filter(pl.col("path") == "czi/DAPI_GFP.czi").iter_rows(named=True)
    assert dapi["pixel_size_x"] is None and dapi["pixel_size_unit"] is None
    # the LIF XML's X length over its 64 pixels, in metres, reported in µm
    [sweep] = rows.filter(pl.col("child_id") == "x_y_lambdaEmi").iter_rows(named=True)
    assert sweep["pixel_size_unit"] == "µm"
    assert sweep["pixel_size_x"] == pytest.approx(6.603309e-6 / 63 * 1e6)
