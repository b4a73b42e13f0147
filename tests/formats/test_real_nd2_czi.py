"""Real ND2 and CZI files through the real pipeline, read by the real bioio plugins.

The files come from ``../shared/testdata/real`` (see its README); the test environment
installs ``pixel-patrol[formats]``. One Snakemake run processes a copy of them. Each
image's declared bit depth reaches the report and sets the saturation level, its pixel
statistics equal those of the plugin's own array, and the CZI that bioio-czi cannot read
is a row with its error and the ``unreadable`` verdict.
"""

from __future__ import annotations

import shutil
from pathlib import Path

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
)
DECLARED = {  # path -> bits per scene (the nd2 file's and each CZI's ComponentBitCount)
    "nd2/cluster.nd2": [12],
    "czi/LSM880_AiryScan.czi": [12],
    "czi/S3_1Pos_2Mosaic_T1_Z1_CH1.czi": [14, 14, 14],
    "czi/xyz__multiple_images.czi": [16, 16],
}


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    from pixel_patrol_base import api

    for plugin in ("bioio_nd2", "bioio_czi"):
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
    return Run(df, meta, project.last_run)


def _level0(run: Run) -> pl.DataFrame:
    return run.df.filter(pl.col("obs_level") == 0).sort("path", "child_id")


def test_each_image_carries_its_declared_bit_depth_and_saturation_level(real_run: Run) -> None:
    rows = _level0(real_run).filter(pl.col("load_error").is_null())
    for path, bits in DECLARED.items():
        mine = rows.filter(pl.col("path") == path)
        assert mine["declared_bit_depth"].to_list() == bits, path
        assert mine["saturation_level"].to_list() == [2.0**b - 1 for b in bits], path
        assert (mine["bits_used"] <= mine["declared_bit_depth"]).all(), path


def test_pixel_statistics_equal_the_plugins_own_array(real_run: Run) -> None:
    from bioio import BioImage

    rows = _level0(real_run).filter(pl.col("load_error").is_null())
    for path in DECLARED:
        image = BioImage(REAL / path)
        mine = rows.filter(pl.col("path") == path)
        assert mine.height == len(image.scenes), path
        for index, scene in enumerate(image.scenes):
            # a file of one scene is one image (no child id); scenes are named children
            one = mine if len(image.scenes) == 1 else mine.filter(pl.col("child_id") == scene)
            [row] = one.iter_rows(named=True)
            image.set_scene(index)
            pixels = np.asarray(image.dask_data).astype(np.float64)
            label = f"{path}[{index}]"
            assert row["num_pixels"] == pixels.size, label
            assert row["min_intensity"] == pixels.min(), label
            assert row["max_intensity"] == pixels.max(), label
            assert row["mean_intensity"] == pytest.approx(pixels.mean(), rel=1e-9), label


def test_a_czi_the_plugin_refuses_is_a_row_with_its_error(real_run: Run) -> None:
    [row] = real_run.df.filter(pl.col("path") == "czi/DAPI_GFP.czi").iter_rows(named=True)
    assert row["load_error"].startswith("cannot read 'DAPI_GFP.czi' with bioio-czi")
    assert "distance scale for dimension 'Y'" in row["load_error"]
    assert row["qc_status"] == "fail" and row["qc_issues"] == ["unreadable"]
    assert real_run.summary["failed"] == 1
